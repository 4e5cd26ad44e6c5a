package enrich

// languageNames maps lowercase ISO 639 codes (the primary subtag of a
// BCP-47 tag) and lowercase English names to the English language name
// that is stored (spec §1.2: `en-US` → `English`). It is read-only.
var languageNames = func() map[string]string {
	codes := map[string]string{
		"af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "az": "Azerbaijani",
		"be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali", "bs": "Bosnian",
		"ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish",
		"de": "German", "el": "Greek", "en": "English", "eo": "Esperanto",
		"es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
		"fi": "Finnish", "fil": "Filipino", "fr": "French", "ga": "Irish",
		"gl": "Galician", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi",
		"hr": "Croatian", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian",
		"is": "Icelandic", "it": "Italian", "ja": "Japanese", "ka": "Georgian",
		"kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean",
		"lo": "Lao", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian",
		"ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "ms": "Malay",
		"my": "Burmese", "nb": "Norwegian", "ne": "Nepali", "nl": "Dutch",
		"nn": "Norwegian", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish",
		"pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "si": "Sinhala",
		"sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian",
		"sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu",
		"th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian",
		"ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "zh": "Chinese",
		"zu": "Zulu",
	}
	m := make(map[string]string, 2*len(codes))
	for code, name := range codes {
		m[code] = name
		m[lower(name)] = name
	}
	return m
}()

// maxLanguageKey is the longest key of languageNames ("vietnamese",
// "indonesian", "portuguese" are 10 bytes); longer subtags are unknown.
const maxLanguageKey = 16

// LanguageName returns the English name of a language tag or name, looked
// up case-insensitively by its primary subtag ("en-US", "en_us", "EN" and
// "english" all give "English"). An unknown value is returned as is.
func LanguageName(tag string) string {
	n := 0
	for n < len(tag) && tag[n] != '-' && tag[n] != '_' {
		n++
	}
	if n == 0 || n > maxLanguageKey {
		return tag
	}
	var buf [maxLanguageKey]byte
	for i := 0; i < n; i++ {
		c := tag[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if name, ok := languageNames[string(buf[:n])]; ok {
		return name
	}
	return tag
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
