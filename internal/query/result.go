package query

// Result is the one result model of a chart, rendered by both APIs: one
// Series per plotted line, aligned to XValues.
type Result struct {
	// XValues are the bucket starts in the project's zone: YYYY-MM-DD for
	// day and longer intervals, YYYY-MM-DDTHH:MM for shorter ones.
	XValues []string `json:"x_values"`
	Series  []Series `json:"series"`
	// CompareXValues are the x values of the compared period, when asked.
	CompareXValues []string `json:"compare_x_values,omitempty"`
}

// Series is one line of a chart.
type Series struct {
	// Label is a readable name: event (or formula), segment, group values
	// and bucket, joined by " · ".
	Label string `json:"label"`
	// Event is the index of the event, or -1 for a formula.
	Event int `json:"event"`
	// Formula is the index of the formula when Event is -1.
	Formula int `json:"formula,omitempty"`
	// Segment is the index of the user segment.
	Segment int `json:"segment"`
	// Group holds the group-by values ("(none)" for unset), in group-by order.
	Group []string `json:"group,omitempty"`
	// Bucket is the frequency or distribution bucket, for those metrics
	// and for formulas reading HIST or PROPHIST (one series per bucket).
	Bucket string `json:"bucket,omitempty"`
	// Compare marks a series of the compared past period.
	Compare bool `json:"compare,omitempty"`
	// Format is "%" or "$" for formulas with those prefixes.
	Format string `json:"format,omitempty"`
	// Values has one value per x value.
	Values []float64 `json:"values"`
	// Collapsed is the whole-range figure (uniques deduplicated over the
	// range, totals summed, ratios of the range's figures).
	Collapsed float64 `json:"collapsed"`
}
