package ingest

// problems collects per-event validation failures as Amplitude reports
// them: field name → indexes of the events that failed on it.
type problems struct {
	invalid  map[string][]int // events_with_invalid_fields
	missing  map[string][]int // events_with_missing_fields
	idLength map[string][]int // events_with_invalid_id_lengths
}

func addIndex(m *map[string][]int, field string, i int) {
	if *m == nil {
		*m = make(map[string][]int)
	}
	s := (*m)[field]
	if len(s) > 0 && s[len(s)-1] == i {
		return
	}
	(*m)[field] = append(s, i)
}

func (p *problems) addInvalid(field string, i int)  { addIndex(&p.invalid, field, i) }
func (p *problems) addMissing(field string, i int)  { addIndex(&p.missing, field, i) }
func (p *problems) addIDLength(field string, i int) { addIndex(&p.idLength, field, i) }

func (p *problems) empty() bool {
	return len(p.invalid) == 0 && len(p.missing) == 0 && len(p.idLength) == 0
}

// answer is the 400 body listing every failing event.
func (p *problems) answer() *answer {
	msg := "Invalid field values on some events"
	if len(p.invalid) == 0 && len(p.missing) == 0 {
		msg = "Invalid id length for user_id or device_id"
	}
	return &answer{
		Code:            400,
		Error:           msg,
		InvalidFields:   p.invalid,
		MissingFields:   p.missing,
		InvalidIDLength: p.idLength,
	}
}
