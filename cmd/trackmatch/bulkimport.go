package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

// importRow is one row of an import file: its number in the file (the
// line of a JSONL file, the line a CSV record starts on), the record and
// its photos' paths under --photos, or why it cannot be sent.
type importRow struct {
	num    int
	rec    models.ImportRecord
	photos []string
	err    *models.Error
}

// rowResult is what became of one row.
type rowResult struct {
	row *importRow
	res models.ImportResult
}

// fileRecord is a JSONL line: a record as POST /v1/import takes it, with
// photos given as paths under --photos instead of their bytes.
type fileRecord struct {
	models.ImportRecord
	Photos []string `json:"photos,omitempty"`
}

// csvColumns are the columns an import CSV may have, in any order (the
// header names them); kind and external_ref are required. Lists (names,
// languages, guardians, photos) are separated by "|".
var csvColumns = []string{"kind", "external_ref", "names", "sex", "age_min", "age_max", "observed_on", "height_cm",
	"marks", "languages", "state", "district", "place", "guardians", "notes", "status", "photos"}

// importBatchRecords and importBatchBytes bound what the command sends at
// once, under the API's models.MaxImportBatch and MaxImportBatchBytes
// (photos grow by a third in base64).
const (
	importBatchRecords = 200
	importBatchBytes   = models.MaxImportBatchBytes / 2
)

// runImport implements `trackmatch import FILE.jsonl|FILE.csv [--photos
// DIR]`, against a running server (--url, key from --key or
// TRACKMATCH_API_KEY) or a stopped server's data folder (--data). Rows go
// in batches through the one import path (engine.Importer, behind POST
// /v1/import when remote), which is idempotent on (kind, external_ref) and
// stores the same photo bytes once: running the command again after a
// crash or an interruption resumes it, re-sending only what is not stored.
// It prints the refused rows (row, field, reason) and a summary. Exit 0
// when every row was imported, 1 when some were refused or the run
// stopped, 2 on bad usage.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", envOr("TRACKMATCH_URL", ""), "a running server's base URL (e.g. http://127.0.0.1:8080); env TRACKMATCH_URL. Without it the command opens --data itself (the server must be stopped)")
	key := fs.String("key", "", "API key of a portal or admin role for --url; env TRACKMATCH_API_KEY")
	photos := fs.String("photos", "", "folder the rows' photo paths are relative to; a path outside it is refused")
	batch := fs.Int("batch", importBatchRecords, fmt.Sprintf("records per request (at most %d)", models.MaxImportBatch))
	quiet := fs.Bool("quiet", false, "no progress bar")
	finish := bindConfig(fs)
	// The file may come before the flags, as in the usage line.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files, args = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) != 1 || *batch < 1 || *batch > models.MaxImportBatch {
		fmt.Fprintln(stderr, "usage: trackmatch import FILE.jsonl|FILE.csv [--photos DIR] [--url URL --key KEY | --data DIR] [--batch N]")
		return 2
	}
	cfg, err := finish()
	if err != nil {
		fmt.Fprintln(stderr, "trackmatch:", err)
		return 2
	}
	rows, err := readImportFile(files[0])
	if err != nil {
		fmt.Fprintln(stderr, "trackmatch:", err)
		return 2
	}
	var root string
	if *photos != "" {
		if root, err = filepath.Abs(*photos); err == nil {
			root, err = filepath.EvalSymlinks(root)
		}
		if err != nil {
			fmt.Fprintln(stderr, "trackmatch: --photos:", err)
			return 2
		}
	}
	markDuplicateRows(rows)

	var send func(ctx context.Context, recs []models.ImportRecord) ([]models.ImportResult, error)
	if *url != "" {
		k := *key
		if k == "" {
			k = os.Getenv("TRACKMATCH_API_KEY")
		}
		if k == "" {
			fmt.Fprintln(stderr, "trackmatch: --url needs a key: --key or TRACKMATCH_API_KEY")
			return 2
		}
		c := &importClient{base: strings.TrimRight(*url, "/"), key: k, http: &http.Client{Timeout: 30 * time.Minute}, log: stderr}
		send = c.send
	} else {
		log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		a, err := openApp(ctx, cfg, log)
		if err != nil {
			fmt.Fprintln(stderr, "trackmatch:", err)
			return 1
		}
		defer a.Close()
		send = engine.NewImporter(a.service, 2*a.photos.Workers()).ImportRecords
	}

	bar := importBar(stderr, len(rows), *quiet)
	var results []rowResult
	stopped := false
	for lo := 0; lo < len(rows) && !stopped; {
		hi, size := lo, 0
		for hi < len(rows) && hi-lo < *batch {
			n := photoBytes(rows[hi], root)
			if hi > lo && size+n > importBatchBytes {
				break
			}
			size += n
			hi++
		}
		out, err := importRows(ctx, rows[lo:hi], root, send)
		if err != nil {
			fmt.Fprintf(stderr, "\ntrackmatch: import stopped at row %d: %v\n", rows[lo].num, err)
			stopped = true
			break
		}
		results = append(results, out...)
		if bar != nil {
			bar.Add(hi - lo)
		}
		lo = hi
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(stderr)
	}
	refused := report(stdout, results)
	if stopped {
		fmt.Fprintln(stderr, "run the same command again to continue: rows already imported are left unchanged")
		return 1
	}
	if refused > 0 {
		return 1
	}
	return 0
}

// importBar is a progress bar over rows on w when it is a terminal (or
// TRACKMATCH_PROGRESS=1), else nil.
func importBar(w io.Writer, n int, quiet bool) *progressbar.ProgressBar {
	if quiet {
		return nil
	}
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	if !tty && os.Getenv("TRACKMATCH_PROGRESS") != "1" {
		return nil
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("import"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(250*time.Millisecond),
		progressbar.OptionSetWidth(30), progressbar.OptionUseANSICodes(false))
}

// importRows reads the photos of rows, sends those that can go and
// returns a result for every row. An error stops the run.
func importRows(ctx context.Context, rows []importRow, root string, send func(context.Context, []models.ImportRecord) ([]models.ImportResult, error)) ([]rowResult, error) {
	out := make([]rowResult, len(rows))
	var recs []models.ImportRecord
	var at []int
	for i := range rows {
		r := &rows[i]
		out[i] = rowResult{row: r, res: models.ImportResult{Kind: r.rec.Kind, ExternalRef: r.rec.ExternalRef}}
		if r.err == nil {
			r.err = loadPhotos(r, root)
		}
		if r.err != nil {
			out[i].res.Status, out[i].res.Error = models.ImportRefused, r.err
			continue
		}
		recs, at = append(recs, r.rec), append(at, i)
	}
	if len(recs) > 0 {
		res, err := send(ctx, recs)
		if err != nil {
			return nil, err
		}
		if len(res) != len(recs) {
			return nil, fmt.Errorf("%d results for %d records", len(res), len(recs))
		}
		for k, r := range res {
			out[at[k]].res = r
		}
	}
	for i := range rows {
		rows[i].rec.Photos = nil // the bytes are sent: let them go
	}
	return out, nil
}

// loadPhotos reads a row's photos from under root, refusing a path that
// leaves it.
func loadPhotos(r *importRow, root string) *models.Error {
	r.rec.Photos = nil
	for j, p := range r.photos {
		field := fmt.Sprintf("photos[%d]", j)
		path, err := photoPath(root, p)
		if err == nil {
			var data []byte
			if data, err = os.ReadFile(path); err == nil {
				r.rec.Photos = append(r.rec.Photos, models.ImportPhoto{Data: data, Name: p})
				continue
			}
			err = fmt.Errorf("cannot read %s: %v", p, errors.Unwrap(err))
		}
		return &models.Error{Code: models.EINVALID, Message: "a photo cannot be read", Fields: []models.FieldError{{Field: field, Message: err.Error()}}}
	}
	return nil
}

// photoPath resolves a row's photo path under root, refusing one that is
// absolute, climbs out with "..", or leads out through a symbolic link.
func photoPath(root, p string) (string, error) {
	if root == "" {
		return "", fmt.Errorf("%s: the row has photos but no --photos folder was given", p)
	}
	if !filepath.IsLocal(p) {
		return "", fmt.Errorf("%s is outside the --photos folder", p)
	}
	full, err := filepath.EvalSymlinks(filepath.Join(root, p))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", p, errors.Unwrap(err))
	}
	if rel, err := filepath.Rel(root, full); err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s leads outside the --photos folder", p)
	}
	return full, nil
}

// photoBytes estimates what a row's photos add to a request.
func photoBytes(r importRow, root string) int {
	n := 1 << 10
	for _, p := range r.photos {
		if path, err := photoPath(root, p); err == nil {
			if st, err := os.Stat(path); err == nil {
				n += int(st.Size())*4/3 + 64
			}
		}
	}
	return n
}

// markDuplicateRows refuses every row whose kind and external_ref another
// row of the file has: which one is right is for the portal to say (as the
// API does within a batch).
func markDuplicateRows(rows []importRow) {
	at := map[[2]string][]int{}
	for i, r := range rows {
		if r.err == nil && r.rec.ExternalRef != "" {
			k := [2]string{string(r.rec.Kind), r.rec.ExternalRef}
			at[k] = append(at[k], i)
		}
	}
	for _, idx := range at {
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			var others []string
			for _, j := range idx {
				if j != i {
					others = append(others, strconv.Itoa(rows[j].num))
				}
			}
			rows[i].err = &models.Error{Code: models.ECONFLICT, Message: "the same kind and external_ref appear on more than one row",
				Fields: []models.FieldError{{Field: "external_ref", Message: "also on row " + strings.Join(others, ", ") + "; none of them was imported"}}}
		}
	}
}

// report prints every refused row and refused photo (row, field, reason)
// and a summary; it returns how many rows had something refused.
func report(w io.Writer, results []rowResult) int {
	all := make([]models.ImportResult, len(results))
	refused := 0
	for i, r := range results {
		all[i] = r.res
		bad := false
		if r.res.Status == models.ImportRefused {
			bad = true
			for _, line := range problemLines(r.res.Error) {
				fmt.Fprintf(w, "row %d: refused: %s\n", r.row.num, line)
			}
		}
		for _, p := range r.res.Photos {
			if p.Status == models.ImportRefused {
				bad = true
				for _, line := range problemLines(p.Error) {
					fmt.Fprintf(w, "row %d: photo %s refused: %s\n", r.row.num, p.Name, line)
				}
			}
		}
		if bad {
			refused++
		}
	}
	s := models.Summarize(all)
	fmt.Fprintf(w, "rows: %d; created %d, unchanged %d, updated %d, refused %d; photos: created %d, unchanged %d, refused %d\n",
		len(results), s.Created, s.Unchanged, s.Updated, s.Refused, s.PhotosCreated, s.PhotosExisting, s.PhotosRefused)
	return refused
}

// problemLines is "field: reason" for each field of e, or its code and message.
func problemLines(e *models.Error) []string {
	if e == nil {
		return []string{"unknown reason"}
	}
	if len(e.Fields) == 0 {
		return []string{e.Code + ": " + e.Message}
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Field + ": " + f.Message + " (" + e.Code + ")"
	}
	return out
}

// readImportFile reads every row of a .csv or .jsonl (.ndjson) file. A row
// that cannot be read is kept with its error, so that it is reported.
func readImportFile(path string) ([]importRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return readCSVRows(f)
	case ".jsonl", ".ndjson":
		return readJSONLRows(f)
	}
	return nil, fmt.Errorf("%s: the file must end in .csv, .jsonl or .ndjson", path)
}

// readJSONLRows reads one record a line; blank lines are skipped.
func readJSONLRows(r io.Reader) ([]importRow, error) {
	var rows []importRow
	br := bufio.NewReader(r)
	for num := 1; ; num++ {
		line, err := br.ReadBytes('\n')
		if t := bytes.TrimSpace(line); len(t) > 0 {
			row := importRow{num: num}
			var fr fileRecord
			dec := json.NewDecoder(bytes.NewReader(t))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&fr); derr != nil {
				row.err = &models.Error{Code: models.EBADREQUEST, Message: "the line is not a record", Fields: []models.FieldError{{Field: jsonField(derr), Message: derr.Error()}}}
			} else {
				row.rec, row.photos = fr.ImportRecord, fr.Photos
			}
			rows = append(rows, row)
		}
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// jsonField names the field a JSON decoding error is about, or "line".
func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(s, `"`)
	}
	return "line"
}

// readCSVRows reads a CSV with a header row naming csvColumns.
func readCSVRows(r io.Reader) ([]importRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !contains(csvColumns, h) {
			return nil, fmt.Errorf("unknown CSV column %q; the columns are %s", h, strings.Join(csvColumns, ", "))
		}
		col[h] = i
	}
	for _, need := range []string{"kind", "external_ref"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("the CSV has no %s column", need)
		}
	}
	var rows []importRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		line, _ := cr.FieldPos(0)
		row := importRow{num: line}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row.num = pe.StartLine
			row.err = &models.Error{Code: models.EBADREQUEST, Message: "the row is not valid CSV", Fields: []models.FieldError{{Field: "row", Message: pe.Err.Error()}}}
			rows = append(rows, row)
			continue
		}
		if err != nil {
			return nil, err
		}
		row.rec, row.photos, row.err = csvRecord(rec, col)
		rows = append(rows, row)
	}
}

// csvRecord builds a record from one CSV row.
func csvRecord(rec []string, col map[string]int) (models.ImportRecord, []string, *models.Error) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	list := func(name string) []string {
		var out []string
		for _, s := range strings.Split(get(name), "|") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	var fe []models.FieldError
	num := func(name string) float64 {
		s := get(name)
		if s == "" {
			return 0
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			fe = append(fe, models.FieldError{Field: name, Message: fmt.Sprintf("%q is not a number", s)})
		}
		return v
	}
	r := models.ImportRecord{ChildInput: models.ChildInput{
		Kind: models.Kind(get("kind")), ExternalRef: get("external_ref"), Names: list("names"), Sex: models.Sex(get("sex")),
		ObservedOn: models.Date(get("observed_on")), HeightCM: num("height_cm"), Marks: get("marks"), Languages: list("languages"),
		Place: models.Place{State: get("state"), District: get("district"), Text: get("place")},
		Notes: get("notes"), Status: models.Status(get("status")),
	}}
	for _, g := range list("guardians") {
		r.Guardians = append(r.Guardians, models.Guardian{Name: g})
	}
	amin, amax := get("age_min"), get("age_max")
	if amin != "" || amax != "" {
		lo, hi := int(num("age_min")), int(num("age_max"))
		if amin == "" {
			lo = hi
		}
		if amax == "" {
			hi = lo
		}
		r.Age = &models.AgeRange{Min: lo, Max: hi}
	}
	if fe != nil {
		return r, nil, &models.Error{Code: models.EINVALID, Message: "the row has fields that cannot be read", Fields: fe}
	}
	return r, list("photos"), nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
