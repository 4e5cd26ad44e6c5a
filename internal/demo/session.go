package demo

import (
	"strconv"
)

// The app's event types.
const (
	evOpenApp       = "Open App"
	evSearch        = "Search"
	evPlaySong      = "Play Song"
	evPauseSong     = "Pause Song"
	evAddToPlaylist = "Add to Playlist"
	evStartTrial    = "Start Trial"
	evSubscribe     = "Subscribe"
	evShareSong     = "Share Song"
	evPurchase      = "Purchase"
	evIdentify      = "$identify"
	evSessionStart  = "session_start"
	evSessionEnd    = "session_end"
	evRevenue       = "revenue_amount"
)

const catalogSongs = 5000

// session plays one session of u on d starting at t, as the SDK would
// record it: the previous session's session_end, session_start, Open App,
// then the user's actions a few seconds to minutes apart.
func (g *generator) session(u *user, d *device, t int64) {
	r := g.r
	if d.sessionID != 0 && g.head(u, d, evSessionEnd, d.lastTime) {
		g.finish()
	}
	d.sessionID = t
	d.sessions++
	if g.head(u, d, evSessionStart, t) {
		g.finish()
	}
	if d.sessions == 1 && g.head(u, d, evIdentify, t) {
		// Attribution on the device's first session, as the browser SDK does.
		b := append(g.buf, `,"user_properties":{"$setOnce":{"initial_referrer":`...)
		b = appendStr(b, pick(r, referrers))
		b = appendKV(b, "initial_utm_source", pick(r, utmSources))
		g.buf = append(b, '}', '}')
		g.finish()
	}
	t += 50 + r.Int64N(1500)
	if g.head(u, d, evOpenApp, t) {
		b := append(g.buf, `,"event_properties":{"launch_type":`...)
		if d.sessions == 1 || r.Float64() < 0.6 {
			b = appendStr(b, "cold")
		} else {
			b = appendStr(b, "warm")
		}
		g.buf = append(b, '}')
		g.props(d)
	}

	login := !d.loggedIn && d.loginAt == d.sessions-1
	loginStep := 0
	actions := 1
	if u.searcher {
		actions = 2 + r.IntN(u.intensity)
		loginStep = r.IntN(min(actions, 3))
	}
	songs := 0
	afterSearch := false
	for a := 0; a < actions && !u.stopped && !g.done; a++ {
		t += 2000 + r.Int64N(60_000)
		if login && a == loginStep {
			d.loggedIn = true
			g.loginIdentify(u, d, t)
			t += 500 + r.Int64N(3000)
		}
		switch {
		case !u.searcher:
			// Opened the app, looked around, left.
		case !u.searched || (!afterSearch && r.Float64() < 0.22) || !u.player:
			g.search(u, d, t)
			u.searched, afterSearch = true, true
		default:
			t = g.listen(u, d, t, afterSearch)
			songs++
			afterSearch = false
		}
	}
	if u.stopped || g.done {
		return
	}

	switch {
	case u.trialist && d.loggedIn && u.added && u.trialAt == 0 && r.Float64() < 0.5:
		t += 5000 + r.Int64N(60_000)
		if g.head(u, d, evStartTrial, t) {
			g.buf = append(g.buf, `,"event_properties":{"trial_days":7,"plan_offered":"premium_monthly"}`...)
			g.props(d)
			u.trialAt = t
		}
	case u.subscriber && d.loggedIn && !u.paid && u.trialAt != 0 && t-u.trialAt > 2*dayMs && r.Float64() < 0.6:
		t = g.subscribe(u, d, t+5000+r.Int64N(60_000))
	}
	if songs > 0 && r.Float64() < 0.3 && g.head(u, d, evIdentify, t+1) {
		b := append(g.buf, `,"user_properties":{"$add":{"songs_played":`...)
		b = strconv.AppendInt(b, int64(songs), 10)
		g.buf = append(b, '}', '}')
		g.finish()
	}
}

// props closes an event with the device's user properties.
func (g *generator) props(d *device) {
	g.buf = append(g.buf, d.uprops...)
	g.finish()
}

// head starts an event of u on d at t: type, ids, time, session, counters,
// insert_id and the device block. It returns false, writing nothing, when
// the event budget is spent or t is past the end of the range.
func (g *generator) head(u *user, d *device, typ string, t int64) bool {
	if g.done || u.stopped {
		return false
	}
	if t > g.end {
		u.stopped = true
		return false
	}
	b := append(g.buf, `{"event_type":`...)
	b = appendStr(b, typ)
	if d.loggedIn {
		b = append(b, `,"user_id":"`...)
		b = append(b, u.id...)
		b = append(b, '"')
	}
	b = append(b, `,"device_id":"`...)
	b = append(b, d.id...)
	b = append(b, '"')
	b = appendKInt(b, "time", t)
	b = appendKInt(b, "session_id", d.sessionID)
	d.eventID++
	b = appendKInt(b, "event_id", d.eventID)
	b = append(b, `,"insert_id":"`...)
	b = appendUUID(b, g.r)
	b = append(b, '"')
	g.buf = append(b, d.block...)
	d.lastTime = t
	u.lastEnd = max(u.lastEnd, t)
	return true
}

// loginIdentify is the $identify the app sends right after setUserId.
func (g *generator) loginIdentify(u *user, d *device, t int64) {
	if !g.head(u, d, evIdentify, t) {
		return
	}
	b := append(g.buf, `,"user_properties":{"$set":{"plan":`...)
	b = appendStr(b, u.plan())
	b = appendKV(b, "country", u.country.name)
	b = appendKV(b, "platform", platformName(d.plat))
	b = appendKV(b, "app_version", d.appVersion)
	g.buf = append(b, '}', '}')
	g.finish()
}

func (g *generator) search(u *user, d *device, t int64) {
	if !g.head(u, d, evSearch, t) {
		return
	}
	b := append(g.buf, `,"event_properties":{"query":`...)
	b = appendStr(b, pick(g.r, searchTerms))
	b = appendKInt(b, "results_count", int64(g.r.IntN(60)))
	g.buf = append(b, '}')
	g.props(d)
}

// song describes catalogue entry i; a song always has the same genre and length.
func song(i int) (genreName string, durationMs int64) {
	h := mix(uint64(i))
	x := int(h % 100)
	genreName = genres[0].name
	for _, gn := range genres {
		if x < gn.weight {
			genreName = gn.name
			break
		}
		x -= gn.weight
	}
	return genreName, 120_000 + int64(h>>32)%240_000
}

func appendSongID(b []byte, i int) []byte {
	b = append(b, `"song_`...)
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(i), 10)
	for range 5 - len(s) {
		b = append(b, '0')
	}
	b = append(b, s...)
	return append(b, '"')
}

// listen plays a song (and maybe pauses, adds, shares or buys) and returns
// the time after it.
func (g *generator) listen(u *user, d *device, t int64, afterSearch bool) int64 {
	r := g.r
	x := r.Float64()
	songIdx := int(x * x * x * catalogSongs) // a few hits get most plays
	genreName, duration := song(songIdx)
	if !g.head(u, d, evPlaySong, t) {
		return t
	}
	b := append(g.buf, `,"event_properties":{"genre":`...)
	b = appendStr(b, genreName)
	b = append(b, `,"song_id":`...)
	b = appendSongID(b, songIdx)
	b = appendKInt(b, "duration_ms", duration)
	source := "search"
	if !afterSearch {
		source = pick(r, playSources)
	}
	b = appendKV(b, "source", source)
	g.buf = append(b, '}')
	g.props(d)

	listened := 10_000 + r.Int64N(duration-10_000)
	if r.Float64() < 0.4 {
		listened = duration
	}
	t += listened
	if listened < duration && r.Float64() < 0.6 && g.head(u, d, evPauseSong, t) {
		b := append(g.buf, `,"event_properties":{"song_id":`...)
		b = appendSongID(b, songIdx)
		b = appendKInt(b, "position_ms", listened)
		g.buf = append(b, '}')
		g.props(d)
	}
	if u.adder && r.Float64() < 0.18 {
		t += 1000 + r.Int64N(8000)
		if g.head(u, d, evAddToPlaylist, t) {
			b := append(g.buf, `,"event_properties":{"song_id":`...)
			b = appendSongID(b, songIdx)
			b = appendKV(b, "genre", genreName)
			b = appendKV(b, "playlist_name", pick(r, playlistNames))
			g.buf = append(b, '}')
			g.props(d)
			u.added = true
		}
	}
	if r.Float64() < 0.03 {
		t += 1000 + r.Int64N(8000)
		if g.head(u, d, evShareSong, t) {
			b := append(g.buf, `,"event_properties":{"song_id":`...)
			b = appendSongID(b, songIdx)
			b = appendKV(b, "share_target", pick(r, shareTargets))
			g.buf = append(b, '}')
			g.props(d)
		}
	}
	if u.buyer && r.Float64() < 0.02 {
		t += 3000 + r.Int64N(30_000)
		g.purchase(u, d, t)
	}
	return t
}

// purchase is a one-off buy reported the HTTP API way: top-level price,
// quantity, revenue, productId and revenueType.
func (g *generator) purchase(u *user, d *device, t int64) {
	p := pick(g.r, purchaseProducts)
	qty := int64(1)
	if p.id == "song_download" {
		qty = 1 + g.r.Int64N(3)
	}
	if !g.head(u, d, evPurchase, t) {
		return
	}
	b := appendKCents(g.buf, "price", int64(p.priceCents))
	b = appendKInt(b, "quantity", qty)
	b = appendKCents(b, "revenue", int64(p.priceCents)*qty)
	b = appendKV(b, "productId", p.id)
	b = appendKV(b, "revenueType", p.revenueType)
	b = appendKV(b, "currency", "USD")
	b = append(b, `,"event_properties":{"item":`...)
	b = appendStr(b, p.id)
	g.buf = append(b, '}')
	g.props(d)
}

// subscribe converts a trial: Subscribe, the SDK's revenue_amount for the
// subscription, and an $identify that sets plan to paid. It returns the
// time of the last of them.
func (g *generator) subscribe(u *user, d *device, t int64) int64 {
	p := pick(g.r, subscriptionProducts)
	if !g.head(u, d, evSubscribe, t) {
		return t
	}
	b := append(g.buf, `,"event_properties":{"plan":`...)
	b = appendStr(b, p.id)
	b = appendKCents(b, "price", int64(p.priceCents))
	g.buf = append(b, '}')
	g.props(d)

	if g.head(u, d, evRevenue, t+1) {
		b := append(g.buf, `,"event_properties":{"$productId":`...)
		b = appendStr(b, p.id)
		b = appendKCents(b, "$price", int64(p.priceCents))
		b = appendKInt(b, "$quantity", 1)
		b = appendKCents(b, "$revenue", int64(p.priceCents))
		b = appendKV(b, "$revenueType", p.revenueType)
		b = appendKV(b, "$currency", "USD")
		g.buf = append(b, '}')
		g.props(d)
	}

	u.paid = true
	for i := range u.nDevs {
		g.setUserProps(u, &u.devs[i])
	}
	if g.head(u, d, evIdentify, t+2) {
		g.buf = append(g.buf, `,"user_properties":{"$set":{"plan":"paid"}}`...)
		g.finish()
	}
	return t + 2
}
