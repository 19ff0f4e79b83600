package main

// The investigator page in a real browser: headless Chromium, driven with
// chromedp, against the real binary with the real face model. The test uses
// the page as an investigator would (sign in, drop photos, search, read a
// record, run a re-score, confirm a match with the keyboard) and checks what
// the page may never do: load anything from another origin, keep the key
// beyond the session, show a photo to a role that may not see it, or lose
// an input's label or an image's alt text. Screenshots at laptop and phone
// sizes go to TRACKMATCH_ARTIFACTS (default: the temp folder).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is Debian's chromium package (make deps installs it).
const chromiumPath = "/usr/bin/chromium"

// Viewports the page is checked at.
var (
	laptop = viewport{name: "laptop", w: 1366, h: 900}
	phone  = viewport{name: "phone", w: 390, h: 844, mobile: true}
)

type viewport struct {
	name   string
	w, h   int64
	mobile bool
}

// browser is one headless Chromium tab, with every request and every page
// error it saw.
type browser struct {
	t         *testing.T
	ctx       context.Context
	origin    string
	artifacts string
	view      viewport

	mu       sync.Mutex
	urls     []string
	problems []string
}

// newBrowser starts Chromium with a fresh profile, or skips the test when
// Debian's chromium is not installed.
func newBrowser(t *testing.T, origin string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is absent, skipping the browser test (install it: apt-get install -y chromium, or run make deps)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx, origin: origin, artifacts: artifactDir(t)}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	logs := chromedp.Events(ctx, log.EntryAdded)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.urls = append(b.urls, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.problem(fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.problem("console." + string(ev.Type) + ": " + strings.Join(parts, " "))
			}
		}
	}()
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			e := ev.Entry
			// Failed responses (401, 403, 503) are the page's business: it
			// shows them. Anything else at error level (a Content-Security-
			// Policy violation, a blocked request) is a defect.
			if e.Level == log.EntryLevelError && e.Source != log.EntrySourceNetwork {
				b.problem(fmt.Sprintf("browser log (%s): %s %s", e.Source, e.Text, e.URL))
			}
		}
	}()
	b.setViewport(laptop)
	return b
}

func (b *browser) problem(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, s)
}

// artifactDir is where screenshots go: $TRACKMATCH_ARTIFACTS, or
// trackmatch-artifacts in the temp folder; never inside the repository.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TRACKMATCH_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "trackmatch-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact folder: %v", err)
	}
	return dir
}

// do runs browser steps with a time limit, saving a screenshot if they fail.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.failShot(what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	b.do("wait for "+what, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(90*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
}

func (b *browser) open(hash string) {
	b.t.Helper()
	b.do("open "+hash, chromedp.Navigate(b.origin+"/"+hash))
}

// goTo changes the page's hash route as a click on a link would.
func (b *browser) goTo(hash string) {
	b.t.Helper()
	eval[chromedp.Void](b, fmt.Sprintf("location.hash = %q", hash))
}

func (b *browser) setViewport(v viewport) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.do("viewport "+v.name, chromedp.EmulateViewport(v.w, v.h, opts...))
	b.view = v
}

// signIn enters a key on the sign-in form (signing out first if need be).
func (b *browser) signIn(key string) {
	b.t.Helper()
	if eval[bool](b, `!document.getElementById('session').hidden`) {
		b.do("sign out", chromedp.Click(chromedp.ID("signout")))
	}
	b.waitFor("sign-in form", `!document.getElementById('view-signin').hidden`)
	b.do("sign in",
		chromedp.SendKeys(chromedp.ID("key-input"), key),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
	b.waitFor("signed in", `!document.getElementById('session').hidden && document.getElementById('view-signin').hidden`)
}

// shot saves a full-page screenshot at the current viewport.
func (b *browser) shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	// Let the last layout paint before the capture.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise)); err != nil {
		b.t.Fatalf("wait for paint: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.artifacts, "web-"+name+"-"+b.view.name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

func (b *browser) failShot(what string) {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		path := filepath.Join(b.artifacts, "web-FAILED-"+strings.NewReplacer(" ", "-", "/", "-", "#", "").Replace(what)+".png")
		if os.WriteFile(path, png, 0o644) == nil {
			b.t.Logf("screenshot of the failure: %s", path)
		}
	}
}

// checkPage asserts what must hold on every page at every size: inputs
// labelled, images with alt text, buttons named, no positive tabindex, no
// horizontal scrolling.
func (b *browser) checkPage(name string) {
	b.t.Helper()
	bad := eval[[]string](b, `(() => {
		const bad = [];
		for (const e of document.querySelectorAll('input, select, textarea')) {
			if (e.type === 'hidden') continue;
			if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')) bad.push('unlabelled ' + e.tagName + ' #' + e.id);
		}
		for (const i of document.querySelectorAll('img')) if (!(i.getAttribute('alt') || '').trim()) bad.push('image without alt text: ' + i.src.slice(0, 40));
		for (const e of document.querySelectorAll('button, a[href]')) if (!e.textContent.trim() && !e.getAttribute('aria-label')) bad.push('unnamed ' + e.tagName);
		for (const e of document.querySelectorAll('[tabindex]')) if (e.tabIndex > 0) bad.push('positive tabindex on ' + e.tagName);
		for (const e of document.querySelectorAll('[onclick]')) bad.push('inline handler on ' + e.tagName);
		for (const e of document.querySelectorAll('[hidden]')) if (e.getClientRects().length) bad.push('hidden element is shown: ' + e.tagName + ' #' + e.id + ' .' + e.className);
		if (document.documentElement.scrollWidth > window.innerWidth + 1) bad.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
		for (const e of document.querySelectorAll('main h1, main h2, main h3, main p, main dd, main dt, main li, main figcaption, main label, main legend')) {
			if (e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible') bad.push('text runs out of its box: ' + e.tagName + ' ' + e.textContent.trim().slice(0, 40));
		}
		return bad;
	})()`)
	for _, p := range bad {
		b.t.Errorf("%s at %s size: %s", name, b.view.name, p)
	}
}

// bothSizes checks and photographs the current page at laptop and phone
// sizes, and returns to the laptop size.
func (b *browser) bothSizes(name string) {
	b.t.Helper()
	for _, v := range []viewport{laptop, phone} {
		b.setViewport(v)
		b.checkPage(name)
		b.shot(name)
	}
	b.setViewport(laptop)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, sel))
}

// checkOrigins asserts that every request the page made was to the
// server's own origin, or to a blob: or data: URL it made itself.
func (b *browser) checkOrigins() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.urls) == 0 {
		b.t.Fatal("no requests were recorded; the network listener is broken")
	}
	var own, local int
	for _, u := range b.urls {
		switch {
		case strings.HasPrefix(u, b.origin+"/"):
			own++
		case strings.HasPrefix(u, "blob:"+b.origin+"/"), strings.HasPrefix(u, "data:"):
			local++
		default:
			b.t.Errorf("request to another origin: %s", u)
		}
	}
	b.t.Logf("%d requests to the server's own origin, %d to blob:/data: URLs, none elsewhere", own, local)
}

func (b *browser) checkNoProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("page problem: %s", p)
	}
}

// webChild is a record the test enrols through the API.
type webChild struct {
	person string // folder in ../shared/faces
	photo  string
	record map[string]any
}

func TestWebPage(t *testing.T) {
	faces := sharedDir(t, "faces")
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is absent, skipping the browser test (install it: apt-get install -y chromium, or run make deps)", chromiumPath)
	}
	s := startServer(t, serverOptions{})

	// The page itself carries the policy that makes the origin check hold.
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "img-src 'self' blob: data:") {
		t.Errorf("page Content-Security-Policy = %q", csp)
	}

	found := []webChild{
		{"amy", "amy1.png", map[string]any{"names": []string{"Anjali Verma"}, "sex": "female", "age": map[string]int{"min": 12, "max": 14}, "observed_on": "2024-02-11", "place": map[string]string{"state": "Bihar", "district": "Patna"}}},
		{"howard", "howard1.png", map[string]any{"names": []string{"Harish Kumar"}, "sex": "male", "age": map[string]int{"min": 13, "max": 15}, "observed_on": "2024-01-20", "place": map[string]string{"state": "Delhi", "district": "New Delhi"}}},
		{"leonard", "leonard1.png", map[string]any{"names": []string{"Lalit Desai"}, "sex": "male", "age": map[string]int{"min": 14, "max": 16}, "observed_on": "2023-12-02", "place": map[string]string{"state": "Maharashtra", "district": "Thane"}}},
		{"penny", "penny1.png", map[string]any{"names": []string{"Pooja Sharma"}, "sex": "female", "age": map[string]int{"min": 12, "max": 14}, "observed_on": "2024-03-10", "place": map[string]string{"state": "Maharashtra", "district": "Pune"}, "marks": "mole on left cheek"}},
		{"raj", "raj1.png", map[string]any{"names": []string{"Rajesh Nair"}, "sex": "male", "age": map[string]int{"min": 13, "max": 15}, "observed_on": "2024-03-01", "place": map[string]string{"state": "Kerala", "district": "Kochi"}, "marks": "scar on right hand"}},
		{"sheldon", "sheldon1.png", map[string]any{"names": []string{"Shekhar Iyer"}, "sex": "male", "observed_on": "2024-01-05", "place": map[string]string{"state": "Tamil Nadu", "district": "Chennai"}}},
	}
	ids := map[string]string{}
	for _, c := range found {
		ids[c.person] = enrolWebChild(t, s, faces, "found", c)
	}

	b := newBrowser(t, s.URL)
	b.open("")
	b.waitFor("sign-in form", `!document.getElementById('view-signin').hidden`)
	b.bothSizes("signin")

	t.Run("key kept for the session only", func(t *testing.T) {
		b.t = t
		b.signIn(investigatorKey)
		got := eval[map[string]any](b, `({session: sessionStorage.getItem('trackmatch.key'), local: localStorage.length, cookie: document.cookie})`)
		if got["session"] != investigatorKey || got["local"] != float64(0) || got["cookie"] != "" {
			t.Errorf("key storage: %v; want it in sessionStorage only", got)
		}
		if label := b.text("#session-label"); !strings.Contains(label, "Key ") || strings.Contains(label, investigatorKey) {
			t.Errorf("session label %q: want the key id, never the key", label)
		}
		// A reload keeps the session (the key is in sessionStorage).
		b.do("reload", chromedp.Reload())
		b.waitFor("search page after a reload", `!document.getElementById('view-search').hidden && !document.getElementById('session').hidden`)
		// Keyboard users see where the focus is.
		b.do("tab", chromedp.KeyEvent(kb.Tab))
		focus := eval[map[string]any](b, `(() => { const e = document.activeElement, s = getComputedStyle(e); return {tag: e.tagName, text: e.textContent.trim(), style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; })()`)
		if focus["style"] == "none" || focus["width"].(float64) < 2 {
			t.Errorf("focused element %v has no visible focus outline", focus)
		}
		// The first stop is the skip link; it moves focus to the content
		// without leaving the page shown.
		if focus["text"] != "Skip to content" {
			t.Errorf("first Tab stop is %v; want the skip link", focus)
		}
		b.do("follow the skip link", chromedp.KeyEvent(kb.Enter))
		b.waitFor("focus on main", `document.activeElement.id === 'main'`)
		if eval[bool](b, `document.getElementById('view-search').hidden`) {
			t.Error("the skip link changed the page shown")
		}
	})

	t.Run("search by photo ranks the same person first", func(t *testing.T) {
		b.t = t
		b.goTo("#/search")
		b.waitFor("search form", `!document.getElementById('view-search').hidden`)
		b.do("choose photo and details",
			chromedp.SetUploadFiles(chromedp.ID("photos"), []string{filepath.Join(faces, "penny", "penny3.png")}),
			chromedp.SendKeys(chromedp.ID("q-names"), "पूजा शर्मा"),
			chromedp.SetValue(chromedp.ID("q-sex"), "female"),
			chromedp.SendKeys(chromedp.ID("q-age-min"), "11"),
			chromedp.SendKeys(chromedp.ID("q-age-max"), "13"),
			chromedp.SendKeys(chromedp.ID("q-state"), "Maharashtra"),
		)
		b.waitFor("chosen photo listed", `document.querySelectorAll('#query-photos li img').length === 1`)
		// A second photo arrives by drag and drop.
		data, err := os.ReadFile(filepath.Join(faces, "penny", "penny4.png"))
		if err != nil {
			t.Fatal(err)
		}
		n := eval[int](b, fmt.Sprintf(`(() => {
			const bin = atob(%q), bytes = new Uint8Array(bin.length);
			for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
			const dt = new DataTransfer();
			dt.items.add(new File([bytes], 'penny4.png', {type: 'image/png'}));
			const zone = document.getElementById('dropzone');
			for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
			return document.querySelectorAll('#query-photos li').length;
		})()`, base64.StdEncoding.EncodeToString(data)))
		if n != 2 {
			t.Fatalf("after a drop, %d photos are listed; want 2", n)
		}
		b.do("search", chromedp.Click(chromedp.ID("search-submit")))
		b.waitFor("candidates with their faces", `(() => {
			const first = document.querySelector('#search-results li.cand');
			if (!first) return false;
			const img = first.querySelector('.pair-faces figure:nth-child(2) img.face');
			return img && img.complete && img.naturalWidth > 0;
		})()`)
		res := eval[struct {
			IDs      []string `json:"ids"`
			Status   string   `json:"status"`
			Prob     string   `json:"prob"`
			CropW    int      `json:"cropW"`
			QueryAlt string   `json:"queryAlt"`
			CandAlt  string   `json:"candAlt"`
			Weights  []string `json:"weights"`
			Details  []string `json:"details"`
			Classes  []string `json:"classes"`
		}](b, `(() => {
			const first = document.querySelector('#search-results li.cand');
			const cand = first.querySelector('.pair-faces figure:nth-child(2) img.face');
			return {
				ids: [...document.querySelectorAll('#search-results li.cand')].map(li => li.dataset.id),
				status: document.getElementById('search-status').textContent,
				prob: first.querySelector('.prob-value').textContent,
				cropW: cand.naturalWidth,
				queryAlt: first.querySelector('.pair-faces figure:first-child img').alt,
				candAlt: cand.alt,
				weights: [...first.querySelectorAll('.contrib .weight')].map(e => e.textContent),
				details: [...first.querySelectorAll('.contrib')].map(e => e.textContent),
				classes: [...first.querySelectorAll('.contrib')].map(e => e.className),
			};
		})()`)
		if len(res.IDs) == 0 || res.IDs[0] != ids["penny"] {
			t.Fatalf("ranked %v; want penny (%s) first", res.IDs, ids["penny"])
		}
		if !strings.HasSuffix(res.Prob, "%") {
			t.Errorf("probability shown as %q", res.Prob)
		}
		if res.CropW != 240 {
			t.Errorf("candidate face is %d px wide; want the 240 px crop from its box", res.CropW)
		}
		if !strings.Contains(res.CandAlt, "Pooja Sharma") || !strings.Contains(res.QueryAlt, "penny3.png") {
			t.Errorf("alt texts %q / %q do not say whose face it is", res.QueryAlt, res.CandAlt)
		}
		var sawFace bool
		for i, d := range res.Details {
			sawFace = sawFace || (strings.Contains(d, "Face:") && strings.Contains(strings.ToLower(d), "distance"))
			w := res.Weights[i]
			// Direction is told by sign and words, not by colour alone.
			if !(strings.Contains(w, "+") && strings.Contains(w, "for a match") || strings.Contains(w, "−") && strings.Contains(w, "against a match") || strings.Contains(w, "±") && strings.Contains(w, "no evidence")) {
				t.Errorf("weight %q (%s) does not say its direction in words", w, res.Classes[i])
			}
		}
		if !sawFace {
			t.Errorf("explanation has no face sentence: %v", res.Details)
		}
		b.checkPage("search")
		b.bothSizes("search")
	})

	t.Run("record page shows details, photos and candidates", func(t *testing.T) {
		b.t = t
		b.do("open the first candidate", chromedp.Click(chromedp.CSS("#search-results li.cand h3 a")))
		b.waitFor("record with photos and candidates", `(() => {
			const img = document.querySelector('#record-photos img');
			return !document.getElementById('view-record').hidden && img && img.complete && img.naturalWidth > 0
				&& document.querySelector('#record-candidates li.cand, #record-cands-status') &&
				/candidate/i.test(document.getElementById('record-cands-status').textContent);
		})()`)
		if got := b.text("#record-title"); !strings.Contains(got, "Pooja Sharma") {
			t.Errorf("record title %q", got)
		}
		if got := b.text("#record-body"); !strings.Contains(got, "mole on left cheek") || !strings.Contains(got, "Pune") {
			t.Errorf("record details lack marks or place: %q", got)
		}
		if n := eval[int](b, `document.querySelectorAll('#record-photos .facebox.subject').length`); n != 1 {
			t.Errorf("%d subject face boxes drawn on the photo; want 1", n)
		}
		b.bothSizes("record")
	})

	t.Run("portal key sees no photos", func(t *testing.T) {
		b.t = t
		b.signIn(portalKey)
		// Nothing the previous key's user typed or saw survives sign-out.
		left := eval[map[string]any](b, `({names: document.getElementById('q-names').value, state: document.getElementById('q-state').value,
			photos: document.querySelectorAll('#query-photos li').length, results: document.querySelectorAll('#search-results li').length,
			record: document.getElementById('record-body').textContent})`)
		if left["names"] != "" || left["state"] != "" || left["photos"] != float64(0) || left["results"] != float64(0) || left["record"] != "" {
			t.Errorf("after sign-out the page still holds %v", left)
		}
		if got := b.text("#session-label"); !strings.Contains(got, "portal") {
			t.Errorf("session label %q does not say the portal role hides records", got)
		}
		b.goTo("#/search")
		b.do("search as portal",
			chromedp.SetUploadFiles(chromedp.ID("photos"), []string{filepath.Join(faces, "penny", "penny3.png")}),
			chromedp.Click(chromedp.ID("search-submit")))
		// The placeholder says "Loading record…" until the record's answer
		// (403 for this key) arrives; wait for what it says then.
		b.waitFor("hidden photos", `[...document.querySelectorAll('#search-results li.cand .placeholder')].some(p => p.textContent.includes('Photo hidden'))`)
		if got := b.text("#search-results li.cand"); !strings.Contains(got, "Photo hidden for this role") {
			t.Errorf("portal candidate shows %q; want 'Photo hidden for this role'", got)
		}
		if n := eval[int](b, `document.querySelectorAll('#search-results li.cand .pair-faces figure:nth-child(2) img').length`); n != 0 {
			t.Errorf("%d candidate photos shown to a portal key", n)
		}
		b.shot("search-portal")
	})

	// The review queue needs matches, which only the batch re-score makes.
	for _, c := range webMissing {
		ids["missing-"+c.person] = enrolWebChild(t, s, faces, "missing", c)
	}
	jobDone := false
	t.Run("jobs page runs a re-score and shows its progress", func(t *testing.T) {
		b.t = t
		// An investigator is told plainly that jobs need an admin key.
		b.signIn(investigatorKey)
		b.goTo("#/jobs")
		b.waitFor("jobs page", `!document.getElementById('view-jobs').hidden`)
		b.do("start re-score as investigator", chromedp.Click(chromedp.ID("rescore-start")))
		b.waitFor("refusal", `!document.getElementById('jobs-error').hidden`)
		if got := b.text("#jobs-error"); !strings.Contains(got, "403") || !strings.Contains(got, "admin key") {
			t.Errorf("an investigator starting a job sees %q; want the 403 and that it needs an admin key", got)
		}
		b.shot("jobs-forbidden")
		b.signIn(adminKey)
		b.goTo("#/jobs")
		b.waitFor("jobs page", `!document.getElementById('view-jobs').hidden`)
		if b.text("#jobs-error") != "" {
			t.Error("the previous key's error is still shown after signing in again")
		}
		b.do("start re-score", chromedp.Click(chromedp.ID("rescore-start")))
		b.waitFor("job finished or refused", `!document.getElementById('jobs-error').hidden ||
			['done', 'failed', 'canceled'].includes(document.getElementById('job-state').dataset.state)`)
		if errText := b.text("#jobs-error"); errText != "" {
			b.bothSizes("jobs-error")
			if !strings.Contains(errText, "503") || !strings.Contains(errText, "unavailable") {
				t.Fatalf("the jobs error is not clear: %q", errText)
			}
			if eval[bool](b, `document.getElementById('jobs-error').getAttribute('role') !== 'alert'`) {
				t.Error("the jobs error is not announced (role=alert)")
			}
			t.Logf("the re-score job answers 503 (%q): batch re-scoring is not wired into this build yet", errText)
			return
		}
		state := eval[map[string]any](b, `({state: document.getElementById('job-state').dataset.state,
			value: document.getElementById('job-progress').value, max: document.getElementById('job-progress').max,
			summary: document.getElementById('job-summary').textContent})`)
		if state["state"] != "done" || state["value"] != state["max"] || !strings.Contains(state["summary"].(string), "New matches") {
			t.Fatalf("job ended as %v", state)
		}
		jobDone = true
		b.bothSizes("jobs")
	})

	t.Run("review queue: confirm with the keyboard", func(t *testing.T) {
		b.t = t
		if !jobDone {
			t.Fatal("the re-score job did not finish (see the jobs subtest), so there are no matches to review")
		}
		reviewQueue(t, b, s, ids)
	})

	b.t = t
	b.checkNoProblems()
	b.checkOrigins()
}

// webMissing are missing reports of found children, with other photos:
// enough matches for more than one small page of the review queue. The
// test decides on the penny and raj matches.
var webMissing = []webChild{
	{"penny", "penny2.png", map[string]any{"names": []string{"Pooja Sharma"}, "sex": "female", "age": map[string]int{"min": 11, "max": 11}, "observed_on": "2023-11-02", "place": map[string]string{"state": "Maharashtra", "district": "Pune"}, "marks": "mole on left cheek"}},
	{"raj", "raj2.png", map[string]any{"names": []string{"Rajesh Nair"}, "sex": "male", "age": map[string]int{"min": 12, "max": 13}, "observed_on": "2023-10-15", "place": map[string]string{"state": "Kerala", "district": "Kochi"}}},
	{"amy", "amy2.png", map[string]any{"names": []string{"Anjali Verma"}, "sex": "female", "age": map[string]int{"min": 12, "max": 12}, "observed_on": "2023-12-20", "place": map[string]string{"state": "Bihar", "district": "Patna"}}},
	{"howard", "howard2.png", map[string]any{"names": []string{"Harish Kumar"}, "sex": "male", "age": map[string]int{"min": 13, "max": 13}, "observed_on": "2023-11-30", "place": map[string]string{"state": "Delhi", "district": "New Delhi"}}},
	{"leonard", "leonard2.png", map[string]any{"names": []string{"Lalit Desai"}, "sex": "male", "age": map[string]int{"min": 14, "max": 15}, "observed_on": "2023-09-12", "place": map[string]string{"state": "Maharashtra", "district": "Thane"}}},
	{"sheldon", "sheldon2.png", map[string]any{"names": []string{"Shekhar Iyer"}, "sex": "male", "observed_on": "2023-08-01", "place": map[string]string{"state": "Tamil Nadu", "district": "Chennai"}}},
}

// enrolWebChild creates a record of the kind with one photo through the API
// (portal key) and returns its id.
func enrolWebChild(t *testing.T, s *server, faces, kind string, c webChild) string {
	t.Helper()
	rec := map[string]any{"kind": kind, "external_ref": kind + "-" + c.person}
	for k, v := range c.record {
		rec[k] = v
	}
	r := s.JSON(t, "POST", "/v1/children", portalKey, rec)
	if r.Status != http.StatusCreated {
		t.Fatalf("create %s %s: %d %s", kind, c.person, r.Status, r.Body)
	}
	var v struct{ ID string }
	r.JSON(t, &v)
	r = s.Multipart(t, "POST", "/v1/children/"+v.ID+"/photos", portalKey, photoPart(t, filepath.Join(faces, c.person, c.photo)))
	if r.Status != http.StatusCreated {
		t.Fatalf("photo %s: %d %s", c.photo, r.Status, r.Body)
	}
	return v.ID
}

// reviewQueue works through the review queue as an investigator: j/k to
// the penny match, n to write a note, Esc, c to confirm; then r to reject
// the raj match; and checks that the records and the queue say so.
func reviewQueue(t *testing.T, b *browser, s *server, ids map[string]string) {
	b.signIn(investigatorKey)
	b.goTo("#/review")
	pennyMatch := ids["missing-penny"] + "~" + ids["penny"]
	rajMatch := ids["missing-raj"] + "~" + ids["raj"]
	count := `document.querySelectorAll('#queue li.match').length`
	b.waitFor("the first page", count+` > 0`)
	// Small pages, to work through the queue as through a long one: j past
	// the last match of a page loads the next.
	b.do("five per page", chromedp.SetValue(chromedp.ID("queue-size"), "5"))
	eval[chromedp.Void](b, `document.getElementById('queue-size').dispatchEvent(new Event('change'))`)
	b.waitFor("a page of five with more to come", count+` === 5 && !document.getElementById('queue-more').hidden && document.querySelector('#queue li.match.current')`)
	for range 5 {
		b.do("press j", chromedp.KeyEvent("j"))
	}
	b.waitFor("the next page, loaded by j", count+` > 5 && document.activeElement === document.querySelectorAll('#queue li.match')[5]`)
	for eval[bool](b, `!document.getElementById('queue-more').hidden`) {
		n := eval[int](b, count)
		b.do("load more", chromedp.Click(chromedp.ID("queue-more")))
		b.waitFor("more matches", fmt.Sprintf(`%s > %d || document.getElementById('queue-more').hidden`, count, n))
	}
	b.waitFor("the penny match with both faces", fmt.Sprintf(`(() => {
		const li = document.querySelector('#queue li.match[data-id=%q]');
		return li && li.querySelectorAll('img.face').length === 2 && [...li.querySelectorAll('img.face')].every(i => i.complete && i.naturalWidth > 0);
	})()`, pennyMatch))
	order := eval[[]string](b, `[...document.querySelectorAll('#queue li.match')].map(li => li.dataset.id)`)
	probs := eval[[]float64](b, `[...document.querySelectorAll('#queue li.match .prob-value')].map(e => parseFloat(e.textContent.replace(/[^0-9.]/g, '')) || 0)`)
	for i := 1; i < len(probs); i++ {
		if probs[i] > probs[i-1] {
			t.Errorf("queue not best first: %v", probs)
		}
	}
	index := func(id string) int {
		for i, x := range order {
			if x == id {
				return i
			}
		}
		t.Fatalf("match %s not in the queue %v", id, order)
		return -1
	}
	if !strings.Contains(b.text("#shortcuts"), "j") {
		t.Error("shortcuts are not shown on the page")
	}
	b.bothSizes("review")
	// moveTo presses j or k until the match at i is the current one.
	moveTo := func(i int) {
		t.Helper()
		moved := false
		for range len(order) + 1 {
			cur := eval[int](b, `[...document.querySelectorAll('#queue li.match')].findIndex(li => li.classList.contains('current'))`)
			if cur == i {
				break
			}
			key := "j"
			if cur > i {
				key = "k"
			}
			b.do("press "+key, chromedp.KeyEvent(key))
			moved = true
		}
		if got := eval[string](b, `(document.querySelector('#queue li.match.current') || {dataset: {}}).dataset.id || ''`); got != order[i] {
			t.Fatalf("current match is %q after j/k; want %s", got, order[i])
		}
		if got := eval[string](b, `document.activeElement.dataset.id || ''`); moved && got != order[i] {
			t.Fatalf("focus is on %q after j/k; want match %s", got, order[i])
		}
	}
	moveTo(index(pennyMatch))
	b.do("note and confirm",
		chromedp.KeyEvent("n"),
		chromedp.KeyEvent("same girl: mole and photos agree"),
		chromedp.KeyEvent(kb.Escape),
		chromedp.KeyEvent("c"))
	sel := fmt.Sprintf(`#queue li.match[data-id=%q]`, pennyMatch)
	b.waitFor("confirmed", fmt.Sprintf(`document.querySelector(%q).classList.contains('decided')`, sel))
	if got := b.text(sel + " .decision"); !strings.Contains(got, "Confirmed") || !strings.Contains(got, "mole and photos agree") {
		t.Errorf("decision shown as %q", got)
	}
	if eval[bool](b, fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).display !== 'none'`, sel+" .decide")) {
		t.Error("a decided match still offers its confirm and reject buttons")
	}
	moveTo(index(rajMatch))
	b.do("reject", chromedp.KeyEvent("r"))
	b.waitFor("rejected", fmt.Sprintf(`document.querySelector('#queue li.match[data-id=%q]').classList.contains('rejected')`, rajMatch))
	b.shot("review-decided")

	// The records now say so, and the queue no longer holds the pair.
	b.goTo("#/record/" + ids["missing-penny"])
	b.waitFor("matched status", `document.querySelector('#record-status [data-status]')`)
	if got := eval[string](b, `document.querySelector('#record-status [data-status]').dataset.status`); got != "matched" {
		t.Errorf("missing record status %q after confirming; want matched", got)
	}
	b.shot("record-matched")
	b.goTo("#/review")
	b.waitFor("queue reloaded", `/awaiting review|No matches/.test(document.getElementById('review-status').textContent)`)
	if n := eval[int](b, fmt.Sprintf(`document.querySelectorAll('#queue li.match[data-id=%q], #queue li.match[data-id=%q]').length`, pennyMatch, rajMatch)); n != 0 {
		t.Errorf("decided matches still in the new queue")
	}
	var m struct {
		Matches []struct {
			ID       string
			Status   string
			Decision struct{ Note string }
		}
	}
	s.JSON(t, "GET", "/v1/matches?status=confirmed", investigatorKey, nil).JSON(t, &m)
	if len(m.Matches) != 1 || m.Matches[0].ID != pennyMatch || m.Matches[0].Decision.Note != "same girl: mole and photos agree" {
		raw, _ := json.Marshal(m)
		t.Errorf("confirmed matches in the API: %s", raw)
	}
}
