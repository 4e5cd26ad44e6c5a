package demo

import (
	"math/rand/v2"
	"strconv"
)

// device is one installation of the app (a browser or a phone) with the
// SDK state the official SDKs keep per device: the event_id counter and
// the current session.
type device struct {
	id    []byte
	plat  int
	block []byte // the device, location and library fields, each with a leading comma
	// uprops is `,"user_properties":{...}` as sent on this device's events.
	uprops     []byte
	appVersion string

	eventID   int64
	sessionID int64 // 0 before the first session
	lastTime  int64 // time of the device's last event
	sessions  int   // sessions started so far
	loginAt   int   // 0-based session in which the user logs in here; -1 never
	loggedIn  bool
}

// user is one listener: identity, traits that decide how far down the
// funnel they go, and what they have done so far.
type user struct {
	id      []byte
	country *country
	city    city
	devs    [2]device
	nDevs   int

	// traits, drawn once
	willLogin, multi                                     bool
	searcher, player, adder, trialist, subscriber, buyer bool
	intensity                                            int // spread of actions per session

	// progress
	searched, added bool
	trialAt         int64
	paid            bool
	stopped         bool  // reached the end of the time range
	lastEnd         int64 // time of the user's last event on any device
}

// simulateUser generates user n's whole history from its own random stream.
func (g *generator) simulateUser(n int) {
	seedUser(g.src, g.seed, n)
	r := g.r
	u := &g.u
	*u = user{id: u.id[:0], devs: [2]device{recycle(&u.devs[0]), recycle(&u.devs[1])}}

	u.id = append(u.id, "user-"...)
	u.id = appendHex(u.id, r.Uint64()>>16, 12)
	u.country = pickCountry(r)
	u.city = pick(r, u.country.cities)

	u.willLogin = r.Float64() < 0.75
	u.multi = u.willLogin && r.Float64() < 0.3
	u.searcher = r.Float64() < 0.85
	u.player = u.searcher && r.Float64() < 0.9
	u.adder = u.player && r.Float64() < 0.5
	u.trialist = u.adder && u.willLogin && r.Float64() < 0.4
	u.subscriber = u.trialist && r.Float64() < 0.6
	u.buyer = r.Float64() < 0.15

	arrival := g.arrivalDay(r)
	// Engagement: most users drop out within days, some stay casual, a
	// core stays for months. This gives the usual steep-then-flat curve.
	var lifespan int
	var pActive float64
	switch x := r.Float64(); {
	case x < 0.45:
		lifespan, pActive, u.intensity = r.IntN(3), 0.3, 5
	case x < 0.85:
		lifespan, pActive, u.intensity = int(r.ExpFloat64()*20), 0.22, 8
	default:
		lifespan, pActive, u.intensity = int(r.ExpFloat64()*150), 0.55, 14
	}

	first := &u.devs[0]
	plat := platWeb
	if x := r.Float64(); x > 0.7 {
		plat = platAndroid
	} else if x > 0.4 {
		plat = platIOS
	}
	g.initDevice(u, first, plat, arrival)
	first.loginAt = -1
	if u.willLogin {
		first.loginAt = 0
		if r.Float64() > 0.35 {
			first.loginAt = 1 + r.IntN(4)
		}
	}
	u.nDevs = 1

	tz := int64(u.country.tzHours) * hourMs
	for d := arrival; d < g.days && d <= arrival+lifespan && !u.stopped && !g.done; d++ {
		if d > arrival {
			p := pActive
			if g.weekend(d) {
				p *= 1.4
			}
			if r.Float64() >= p {
				continue
			}
		}
		n := 1
		if r.Float64() < 0.3 {
			n++
		}
		if r.Float64() < 0.12 {
			n++
		}
		var starts [3]int64
		for i := range n {
			starts[i] = pickHour(r)*hourMs + r.Int64N(hourMs)
		}
		sortSmall(starts[:n])
		midnight := g.day0 + int64(d)*dayMs - tz
		for i := 0; i < n && !u.stopped && !g.done; i++ {
			t := midnight + starts[i]
			if earliest := u.lastEnd + sessionTimeoutMs + minuteMs; u.lastEnd != 0 && t < earliest {
				t = earliest + r.Int64N(20*minuteMs)
			}
			if t < g.start {
				continue
			}
			if t > g.end {
				u.stopped = true
				break
			}
			g.session(u, g.pickDevice(u, t), t)
		}
	}
}

// recycle returns an empty device that keeps d's buffers.
func recycle(d *device) device {
	return device{id: d.id[:0], block: d.block[:0], uprops: d.uprops[:0]}
}

func appendHex(b []byte, x uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexDigits[(x>>(uint(i)*4))&0xf])
	}
	return b
}

func pickCountry(r *rand.Rand) *country {
	total := 0
	for i := range countries {
		total += countries[i].weight
	}
	x := r.IntN(total)
	for i := range countries {
		if x < countries[i].weight {
			return &countries[i]
		}
		x -= countries[i].weight
	}
	return &countries[0]
}

func pickHour(r *rand.Rand) int64 {
	total := 0
	for _, w := range hourWeights {
		total += w
	}
	x := r.IntN(total)
	for h, w := range hourWeights {
		if x < w {
			return int64(h)
		}
		x -= w
	}
	return 20
}

func sortSmall(s []int64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// preDays is how many days before the range users may have arrived, so
// that the range opens with an existing audience rather than an empty app.
const preDays = 45

// arrivalDay draws the day slot of a user's first visit (negative: before
// the range, whose events are not sent): new users arrive all along, a
// little more often later (growth) and on weekends.
func (g *generator) arrivalDay(r *rand.Rand) int {
	span := g.days + preDays
	for {
		d := r.IntN(span) - preDays
		w := 0.7 + 0.6*float64(d+preDays)/float64(span)
		if g.weekend(d) {
			w *= 1.3
		}
		if r.Float64()*1.69 < w {
			return d
		}
	}
}

// pickDevice chooses the device of a session starting at t. A user with
// two devices adds the second one only after logging in on the first.
func (g *generator) pickDevice(u *user, t int64) *device {
	r := g.r
	if u.nDevs == 1 {
		if u.multi && u.devs[0].loggedIn && r.Float64() < 0.25 {
			plat := platWeb
			if u.devs[0].plat == platWeb {
				plat = platIOS
				if r.Float64() < 0.4 {
					plat = platAndroid
				}
			}
			d := &u.devs[1]
			g.initDevice(u, d, plat, int((t-g.day0)/dayMs))
			d.loginAt = 0
			u.nDevs = 2
			return d
		}
		return &u.devs[0]
	}
	if r.Float64() < 0.45 {
		return &u.devs[1]
	}
	return &u.devs[0]
}

// initDevice draws a device's identity and fixed fields.
func (g *generator) initDevice(u *user, d *device, plat, day int) {
	r := g.r
	*d = recycle(d)
	d.plat = plat
	hi, lo := r.Uint64(), r.Uint64()
	switch plat {
	case platIOS: // IDFV-style: uppercase UUID
		d.id = appendUUIDBits(d.id, hi, lo, "0123456789ABCDEF")
	case platAndroid: // the Android SDK appends "R" to its random UUID
		d.id = appendUUIDBits(d.id, hi, lo, hexDigits)
		d.id = append(d.id, 'R')
	default:
		d.id = appendUUIDBits(d.id, hi, lo, hexDigits)
	}

	versions := appVersions[plat]
	vi := int(float64(day)/float64(g.days)*float64(len(versions)) + r.Float64()*0.8)
	d.appVersion = versions[max(0, min(vi, len(versions)-1))]

	b := d.block
	switch plat {
	case platWeb:
		br := pick(r, browsers)
		b = appendKV(b, "platform", "Web")
		b = appendKV(b, "os_name", br.name)
		b = appendKV(b, "os_version", br.version)
		b = appendKV(b, "device_type", "Desktop")
		b = appendKV(b, "user_agent", br.userAgent)
	case platIOS, platAndroid:
		md, platName, osName, osVersion := pick(r, iosDevices), "iOS", "ios", pick(r, iosVersions)
		if plat == platAndroid {
			md, platName, osName, osVersion = pick(r, androidDevices), "Android", "android", pick(r, androidVersions)
		}
		b = appendKV(b, "platform", platName)
		b = appendKV(b, "os_name", osName)
		b = appendKV(b, "os_version", osVersion)
		b = appendKV(b, "device_manufacturer", md.manufacturer)
		b = appendKV(b, "device_brand", md.brand)
		b = appendKV(b, "device_model", md.model)
		b = appendKV(b, "carrier", pick(r, u.country.carriers))
	}
	b = appendKV(b, "app_version", d.appVersion)
	b = appendKV(b, "country", u.country.name)
	b = appendKV(b, "region", u.city.region)
	b = appendKV(b, "city", u.city.name)
	b = appendKV(b, "language", u.country.language)
	b = append(b, `,"ip":"`...)
	b = append(b, pick(r, []string{"192.0.2.", "198.51.100.", "203.0.113."})...)
	b = strconv.AppendInt(b, 1+r.Int64N(254), 10)
	b = append(b, '"')
	switch plat {
	case platWeb:
		b = appendKV(b, "library", libWeb)
	case platIOS:
		b = appendKV(b, "library", libIOS)
	default:
		b = appendKV(b, "library", libAndroid)
	}
	d.block = b
	g.setUserProps(u, d)
}

func platformName(plat int) string {
	switch plat {
	case platIOS:
		return "iOS"
	case platAndroid:
		return "Android"
	}
	return "Web"
}

func (u *user) plan() string {
	if u.paid {
		return "paid"
	}
	return "free"
}

// setUserProps renders the user properties a device's events carry.
func (g *generator) setUserProps(u *user, d *device) {
	b := append(d.uprops[:0], `,"user_properties":{"plan":`...)
	b = appendStr(b, u.plan())
	b = appendKV(b, "country", u.country.name)
	b = appendKV(b, "platform", platformName(d.plat))
	b = appendKV(b, "app_version", d.appVersion)
	d.uprops = append(b, '}')
}
