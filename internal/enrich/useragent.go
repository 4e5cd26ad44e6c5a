package enrich

import (
	"strings"

	useragent "github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"

	"github.com/crest-analytics/crest/internal/event"
)

// uaCacheSize bounds the user-agent cache. A user's events repeat one UA
// string, and a site sees a few thousand distinct ones per hour; 4096
// entries of at most ~1 KiB each (ingest truncates strings to 1024 chars)
// keep the cache under ~5 MiB.
const uaCacheSize = 4096

// device is what a user-agent string tells about the client.
type device struct {
	osName     string
	osVersion  string
	deviceType string
	family     string
	browser    string // name and major version, e.g. "Chrome 156"
}

// apply copies the derived fields into ev, leaving fields the client set.
func (d *device) apply(ev *event.Event) {
	setIfEmpty(&ev.OSName, d.osName)
	setIfEmpty(&ev.OSVersion, d.osVersion)
	setIfEmpty(&ev.DeviceType, d.deviceType)
	setIfEmpty(&ev.DeviceFamily, d.family)
	setIfEmpty(&ev.Browser, d.browser)
}

func setIfEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// uaParser parses user-agent strings through a bounded LRU cache.
type uaParser struct {
	p     *useragent.Parser
	cache *lru[string, *device]
}

func newUAParser(cacheSize int) *uaParser {
	return &uaParser{p: useragent.NewParser(), cache: newLRU[string, *device](cacheSize)}
}

// parse returns the device for ua. The result is shared: do not modify it.
func (u *uaParser) parse(ua string) *device {
	if d, ok := u.cache.get(ua); ok {
		return d
	}
	d := parseUA(u.p, ua)
	// Clone the key: ua may point into a request buffer that is reused.
	u.cache.add(strings.Clone(ua), d)
	return d
}

// parseUA derives the device fields from one user-agent string.
func parseUA(p *useragent.Parser, ua string) *device {
	a := p.Parse(ua)
	d := &device{}
	os := a.OS()
	d.osName = osName(os)
	d.osVersion = osVersion(os, ua)
	d.deviceType = string(a.Device())
	// The parser calls every Android device Mobile; by Google's convention
	// an Android UA without "Mobile" is a tablet.
	if os == agents.OSAndroid && d.deviceType == string(agents.DeviceMobile) && !strings.Contains(ua, "Mobile") {
		d.deviceType = string(agents.DeviceTablet)
	}
	d.family = deviceFamily(os, d.deviceType)
	if b := a.Browser(); b != "" {
		d.browser = string(b)
		v := a.BrowserVersionMajor()
		if b == agents.BrowserIE {
			// IE 11 has no "MSIE" token; the parser reports its
			// Trident version, while "rv:" carries the browser's.
			if rv := after(ua, "rv:"); rv != "" {
				v, _, _ = strings.Cut(rv, ".")
			}
		}
		if v != "" {
			d.browser += " " + v
		}
	}
	return d
}

// osName maps the parser's OS names to the names Crest stores.
func osName(os agents.OS) string {
	switch os {
	case agents.OSMacOS:
		return "macOS"
	default:
		return string(os)
	}
}

// deviceFamily names the kind of hardware, as far as a UA tells it.
func deviceFamily(os agents.OS, deviceType string) string {
	switch {
	case deviceType == string(agents.DeviceBot):
		return "Bot"
	case os == agents.OSIOS && deviceType == string(agents.DeviceTablet):
		return "Apple iPad"
	case os == agents.OSIOS:
		return "Apple iPhone"
	case os == agents.OSMacOS:
		return "Apple Mac"
	case os == agents.OSAndroid && deviceType == string(agents.DeviceTablet):
		return "Android Tablet"
	case os == agents.OSAndroid:
		return "Android Phone"
	case os == agents.OSChromeOS:
		return "Chromebook"
	case os == agents.OSWindows:
		return "Windows PC"
	case os == agents.OSLinux, os == agents.OSFreeBSD, os == agents.OSOpenBSD:
		return string(os) + " PC"
	}
	return ""
}

// osVersion extracts the OS version from ua, which the parser does not
// report. It returns "" when the UA does not carry one (Linux) or hides it.
func osVersion(os agents.OS, ua string) string {
	switch os {
	case agents.OSWindows:
		return windowsVersion(after(ua, "Windows NT "))
	case agents.OSIOS:
		// "CPU iPhone OS 17_4_1 like Mac OS X", "CPU OS 16_6 like Mac OS X".
		v := after(ua, "iPhone OS ")
		if v == "" {
			v = after(ua, "CPU OS ")
		}
		return strings.ReplaceAll(v, "_", ".")
	case agents.OSMacOS:
		// Frozen at 10_15_7 by Safari and Chrome since macOS 11.
		return strings.ReplaceAll(after(ua, "Mac OS X "), "_", ".")
	case agents.OSAndroid:
		return after(ua, "Android ")
	}
	return ""
}

// after returns the version-like token that follows marker in ua: digits,
// dots and underscores.
func after(ua, marker string) string {
	i := strings.Index(ua, marker)
	if i < 0 {
		return ""
	}
	rest := ua[i+len(marker):]
	n := 0
	for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '.' || rest[n] == '_') {
		n++
	}
	return strings.Trim(rest[:n], "._")
}

// windowsVersion maps an NT kernel version to the marketing version.
// Windows 11 still sends "Windows NT 10.0".
func windowsVersion(nt string) string {
	switch nt {
	case "":
		return ""
	case "10.0":
		return "10"
	case "6.3":
		return "8.1"
	case "6.2":
		return "8"
	case "6.1":
		return "7"
	case "6.0":
		return "Vista"
	case "5.1", "5.2":
		return "XP"
	}
	return "NT " + nt
}
