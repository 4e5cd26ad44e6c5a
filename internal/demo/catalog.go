package demo

// The catalog: the read-only tables the music app's users, devices and
// songs are drawn from. Every string here is plain ASCII without quotes or
// backslashes, so the generator writes them into JSON without escaping.

// country is where a user lives: its location block, language and the
// offset of its local time from UTC (used to put sessions in the evening).
type country struct {
	name     string
	weight   int
	language string
	tzHours  int
	cities   []city
	carriers []string
}

type city struct{ name, region string }

var countries = []country{
	{"United States", 34, "en-US", -6, []city{
		{"New York", "New York"}, {"Los Angeles", "California"}, {"San Francisco", "California"},
		{"Chicago", "Illinois"}, {"Austin", "Texas"}, {"Seattle", "Washington"}, {"Miami", "Florida"},
	}, []string{"Verizon", "AT&T", "T-Mobile"}},
	{"United Kingdom", 10, "en-GB", 0, []city{
		{"London", "England"}, {"Manchester", "England"}, {"Edinburgh", "Scotland"},
	}, []string{"EE", "Vodafone UK", "O2"}},
	{"Germany", 9, "de-DE", 1, []city{
		{"Berlin", "Berlin"}, {"Munich", "Bavaria"}, {"Hamburg", "Hamburg"},
	}, []string{"Telekom", "Vodafone", "O2 Germany"}},
	{"France", 7, "fr-FR", 1, []city{
		{"Paris", "Ile-de-France"}, {"Lyon", "Auvergne-Rhone-Alpes"}, {"Marseille", "Provence-Alpes-Cote d'Azur"},
	}, []string{"Orange", "SFR", "Free"}},
	{"Brazil", 8, "pt-BR", -3, []city{
		{"Sao Paulo", "Sao Paulo"}, {"Rio de Janeiro", "Rio de Janeiro"}, {"Belo Horizonte", "Minas Gerais"},
	}, []string{"Vivo", "Claro", "TIM"}},
	{"India", 9, "en-IN", 5, []city{
		{"Mumbai", "Maharashtra"}, {"Bengaluru", "Karnataka"}, {"Delhi", "Delhi"},
	}, []string{"Jio", "Airtel", "Vi"}},
	{"Japan", 6, "ja-JP", 9, []city{
		{"Tokyo", "Tokyo"}, {"Osaka", "Osaka"}, {"Yokohama", "Kanagawa"},
	}, []string{"NTT Docomo", "SoftBank", "au"}},
	{"Canada", 5, "en-CA", -5, []city{
		{"Toronto", "Ontario"}, {"Vancouver", "British Columbia"}, {"Montreal", "Quebec"},
	}, []string{"Rogers", "Bell", "Telus"}},
	{"Australia", 4, "en-AU", 10, []city{
		{"Sydney", "New South Wales"}, {"Melbourne", "Victoria"}, {"Brisbane", "Queensland"},
	}, []string{"Telstra", "Optus", "Vodafone AU"}},
	{"Mexico", 4, "es-MX", -6, []city{
		{"Mexico City", "Mexico City"}, {"Guadalajara", "Jalisco"}, {"Monterrey", "Nuevo Leon"},
	}, []string{"Telcel", "AT&T Mexico", "Movistar"}},
	{"Spain", 4, "es-ES", 1, []city{
		{"Madrid", "Madrid"}, {"Barcelona", "Catalonia"}, {"Valencia", "Valencia"},
	}, []string{"Movistar", "Vodafone ES", "Orange ES"}},
}

// platform kinds.
const (
	platWeb = iota
	platIOS
	platAndroid
)

// The SDK identifiers the official SDKs send in "library".
const (
	libWeb     = "amplitude-ts/2.48.1"
	libIOS     = "amplitude-swift/1.9.0"
	libAndroid = "amplitude-kotlin/1.19.0"
)

type browser struct {
	name, version, userAgent string
}

var browsers = []browser{
	{"Chrome", "126", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"},
	{"Chrome", "125", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"},
	{"Safari", "17.5", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"},
	{"Firefox", "127", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"},
	{"Edge", "126", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"},
}

type mobileDevice struct {
	manufacturer, brand, model string
}

var iosDevices = []mobileDevice{
	{"Apple", "Apple", "iPhone15,2"}, {"Apple", "Apple", "iPhone15,3"}, {"Apple", "Apple", "iPhone14,5"},
	{"Apple", "Apple", "iPhone16,1"}, {"Apple", "Apple", "iPhone14,7"}, {"Apple", "Apple", "iPad13,4"},
}

var iosVersions = []string{"17.5.1", "17.4", "16.7.8", "17.2.1"}

var androidDevices = []mobileDevice{
	{"Google", "google", "Pixel 8"}, {"Google", "google", "Pixel 7a"}, {"samsung", "samsung", "SM-S918B"},
	{"samsung", "samsung", "SM-A546B"}, {"Xiaomi", "Redmi", "23049RAD8C"}, {"OnePlus", "OnePlus", "CPH2449"},
}

var androidVersions = []string{"14", "13", "12"}

// App versions per platform, oldest first; newer users get newer builds more often.
var appVersions = [3][]string{
	platWeb:     {"2.12.0", "2.13.1", "2.14.0"},
	platIOS:     {"5.3.0", "5.4.2", "5.5.0"},
	platAndroid: {"5.3.1", "5.4.0", "5.5.1"},
}

type genre struct {
	name   string
	weight int
}

var genres = []genre{
	{"Pop", 24}, {"Hip-Hop", 18}, {"Rock", 14}, {"Electronic", 10}, {"R&B", 8},
	{"Latin", 7}, {"Indie", 6}, {"Jazz", 4}, {"Classical", 3}, {"Country", 4}, {"K-Pop", 2},
}

var searchTerms = []string{
	"taylor swift", "lofi beats", "workout mix", "bad bunny", "the weeknd", "chill vibes",
	"beyonce", "jazz piano", "drake", "coldplay", "daft punk", "focus music", "road trip",
	"80s hits", "billie eilish", "arctic monkeys", "bts", "classical study", "rainy day",
	"summer party", "kendrick lamar", "dua lipa", "acoustic covers", "sleep sounds",
}

// Where a Play Song came from when it did not follow a search.
var playSources = []string{"playlist", "recommended", "radio", "library", "album", "artist_page"}

var referrers = []string{
	"https://www.google.com/", "https://www.google.com/", "https://www.instagram.com/",
	"https://t.co/", "https://www.tiktok.com/", "https://www.facebook.com/",
	"https://www.reddit.com/", "EMPTY", "EMPTY", "EMPTY",
}

var utmSources = []string{"google", "instagram", "tiktok", "newsletter", "EMPTY", "EMPTY", "EMPTY"}

var playlistNames = []string{"Favorites", "Workout", "Chill", "Road Trip", "Party", "Focus", "Sleep"}

var shareTargets = []string{"instagram", "whatsapp", "copy_link", "twitter", "messages"}

// Purchases: one-off items a user buys inside the app (the Purchase event
// with top-level price/quantity/revenue fields).
type product struct {
	id, revenueType string
	priceCents      int
}

var purchaseProducts = []product{
	{"song_download", "purchase", 99},
	{"album_download", "purchase", 999},
	{"gift_card_10", "gift", 1000},
	{"concert_ticket", "ticket", 4500},
}

// The subscription sold by Subscribe, as a revenue_amount event.
var subscriptionProducts = []product{
	{"premium_monthly", "subscription", 999},
	{"premium_annual", "subscription", 9999},
	{"family_monthly", "subscription", 1599},
}

// Local hour-of-day weights: quiet nights, a commute bump, evening peak.
var hourWeights = [24]int{
	2, 1, 1, 1, 1, 2, 4, 7, 9, 7, 6, 6, 7, 6, 6, 6, 7, 9, 11, 12, 12, 10, 7, 4,
}
