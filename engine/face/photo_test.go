package face

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trackmatch/trackmatch/models"
)

// testPattern is a w×h image with a distinct colour in each quadrant, so
// that a rotation or flip shows in the decoded pixels.
func testPattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.NRGBA
			switch {
			case x < w/2 && y < h/2:
				c = color.NRGBA{220, 30, 30, 255} // top left red
			case x >= w/2 && y < h/2:
				c = color.NRGBA{30, 220, 30, 255} // top right green
			case x < w/2:
				c = color.NRGBA{30, 30, 220, 255} // bottom left blue
			default:
				c = color.NRGBA{230, 230, 230, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encodeWebP encodes img with OpenCV (x/image has no WebP encoder); quality
// above 100 is lossless (VP8L), at most 100 lossy (VP8).
func encodeWebP(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	mat, err := gocv.ImageToMatRGB(img)
	if err != nil {
		t.Fatal(err)
	}
	defer mat.Close()
	buf, err := gocv.IMEncodeWithParams(".webp", mat, []int{gocv.IMWriteWebpQuality, quality})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	out := append([]byte(nil), buf.GetBytes()...)
	if len(out) == 0 {
		t.Fatal("OpenCV produced no WebP")
	}
	return out
}

// withEXIFOrientation inserts an EXIF APP1 segment holding only the
// orientation tag right after the JPEG's SOI marker.
func withEXIFOrientation(jpg []byte, orientation uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	for _, v := range []any{uint32(8), uint16(1), uint16(0x0112), uint16(3), uint32(1), orientation, uint16(0), uint32(0)} {
		_ = binary.Write(&tiff, binary.BigEndian, v)
	}
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte(nil), jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// pngHeaderOnly is a PNG signature and a valid IHDR declaring w×h 8-bit RGB
// pixels, and nothing else: 33 bytes that once killed the process.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	writePNGChunk(&b, "IHDR", binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h), []byte{8, 2, 0, 0, 0})
	return b.Bytes()
}

func writePNGChunk(b *bytes.Buffer, typ string, parts ...[]byte) {
	data := bytes.Join(parts, nil)
	_ = binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	_ = binary.Write(b, binary.BigEndian, crc.Sum32())
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := models.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

// decodeOK decodes data and returns the pixel (B, G, R) at (x, y) and the size.
func decodeOK(t *testing.T, data []byte, x, y int) (bgr [3]uint8, w, h int) {
	t.Helper()
	p, err := decodePhoto(data, PhotoLimits{})
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	defer p.Close()
	v := p.mat.GetVecbAt(y, x)
	return [3]uint8{v[0], v[1], v[2]}, p.mat.Cols(), p.mat.Rows()
}

func near(a, b uint8) bool { return int(a)-int(b) < 24 && int(b)-int(a) < 24 }

func TestDecodeFormats(t *testing.T) {
	pat := testPattern(64, 48)
	grey := image.NewGray(pat.Bounds())
	grey16 := image.NewGray16(pat.Bounds())
	rgba64 := image.NewRGBA64(pat.Bounds())
	alpha := image.NewNRGBA(pat.Bounds())
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			c := pat.NRGBAAt(x, y)
			grey.SetGray(x, y, color.Gray{c.G})
			grey16.SetGray16(x, y, color.Gray16{uint16(c.G)<<8 | 0xcd})
			rgba64.SetRGBA64(x, y, color.RGBA64{uint16(c.R) << 8, uint16(c.G) << 8, uint16(c.B) << 8, 0xffff})
			c.A = 128
			alpha.SetNRGBA(x, y, c)
		}
	}
	red := [3]uint8{30, 30, 220} // BGR
	cases := []struct {
		name  string
		data  []byte
		ctype string
		want  [3]uint8 // BGR at (5, 5), the top-left quadrant
	}{
		{"jpeg", encodeJPEG(t, pat), ContentTypeJPEG, red},
		{"png 8-bit", encodePNG(t, pat), ContentTypePNG, red},
		{"png 16-bit colour", encodePNG(t, rgba64), ContentTypePNG, red},
		{"png grey", encodePNG(t, grey), ContentTypePNG, [3]uint8{30, 30, 30}},
		{"png 16-bit grey", encodePNG(t, grey16), ContentTypePNG, [3]uint8{30, 30, 30}},
		{"png with alpha", encodePNG(t, alpha), ContentTypePNG, red},
		{"webp lossless", encodeWebP(t, pat, 101), ContentTypeWebP, red},
		{"webp lossy", encodeWebP(t, pat, 90), ContentTypeWebP, red},
	}
	// Both WebP bitstreams are exercised: lossless VP8L and lossy VP8.
	if got := string(cases[6].data[12:16]) + "," + string(cases[7].data[12:16]); got != "VP8L,VP8 " {
		t.Fatalf("WebP chunks %q, want VP8L and VP8", got)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := CheckPhoto(c.data, PhotoLimits{})
			if err != nil {
				t.Fatal(err)
			}
			if info.ContentType != c.ctype || info.Width != 64 || info.Height != 48 {
				t.Fatalf("CheckPhoto = %+v, want %s 64×48", info, c.ctype)
			}
			got, w, h := decodeOK(t, c.data, 5, 5)
			if w != 64 || h != 48 {
				t.Fatalf("decoded %d×%d, want 64×48", w, h)
			}
			for i := range got {
				if !near(got[i], c.want[i]) {
					t.Fatalf("pixel (5,5) BGR = %v, want about %v", got, c.want)
				}
			}
		})
	}
}

// TestDecodeEXIFOrientation: OpenCV 4.6's imdecode applies the orientation
// tag (with IMReadColor), so no rotation is done in Go; this pins that.
func TestDecodeEXIFOrientation(t *testing.T) {
	jpg := encodeJPEG(t, testPattern(64, 48))
	red, green, blue := [3]uint8{30, 30, 220}, [3]uint8{30, 220, 30}, [3]uint8{220, 30, 30}
	cases := []struct {
		orientation uint16
		w, h        int
		topLeft     [3]uint8
	}{
		{1, 64, 48, red},
		{3, 64, 48, [3]uint8{230, 230, 230}}, // rotated 180°
		{6, 48, 64, blue},                    // rotate 90° clockwise to display: bottom-left comes to top-left
		{8, 48, 64, green},                   // 90° counter-clockwise: top-right comes to top-left
	}
	for _, c := range cases {
		got, w, h := decodeOK(t, withEXIFOrientation(jpg, c.orientation), 3, 3)
		if w != c.w || h != c.h {
			t.Errorf("orientation %d: decoded %d×%d, want %d×%d", c.orientation, w, h, c.w, c.h)
		}
		for i := range got {
			if !near(got[i], c.topLeft[i]) {
				t.Errorf("orientation %d: top-left BGR %v, want about %v", c.orientation, got, c.topLeft)
				break
			}
		}
	}
}

func TestDecodeReduction(t *testing.T) {
	jpg := func(w, h int) PhotoInfo { return PhotoInfo{ContentType: ContentTypeJPEG, Width: w, Height: h} }
	cases := []struct {
		info    PhotoInfo
		minLong int
		want    int
	}{
		{jpg(1999, 1000), 1000, 2}, // libjpeg rounds up: ceil(1999/2) = 1000
		{jpg(1998, 1000), 1000, 1}, // half would be 999 wide
		{jpg(2000, 1500), 1000, 2},
		{jpg(1500, 2000), 1000, 2}, // the longer side counts, whichever it is
		{jpg(3999, 10), 1000, 4},   // ceil(3999/4) = 1000
		{jpg(7000, 7000), 1000, 4},
		{jpg(32768, 100), 1000, 8}, // never more than libjpeg's 1/8
		{jpg(500, 400), 1000, 1},
		{jpg(2000, 1500), 2000, 1},
		{PhotoInfo{ContentType: ContentTypePNG, Width: 8000, Height: 6000}, 1000, 1},
		{PhotoInfo{ContentType: ContentTypeWebP, Width: 8000, Height: 6000}, 1000, 1},
	}
	for _, c := range cases {
		if got := decodeReduction(c.info, c.minLong); got != c.want {
			t.Errorf("decodeReduction(%+v, %d) = %d, want %d", c.info, c.minLong, got, c.want)
		}
	}
}

// TestDecodeReduced: a JPEG decoded smaller keeps its orientation, its
// whole size and its content, a retry decodes it again less reduced, and a
// face box maps into the reduced pixels.
func TestDecodeReduced(t *testing.T) {
	pat := testPattern(1001, 750) // odd width: libjpeg rounds the reduced side up
	red, blue := [3]uint8{30, 30, 220}, [3]uint8{220, 30, 30}
	for _, c := range []struct {
		name        string
		data        []byte
		w, h        int // whole, oriented
		topLeft     [3]uint8
		bottomRight [3]uint8
	}{
		{"upright", encodeJPEG(t, pat), 1001, 750, red, [3]uint8{230, 230, 230}},
		{"exif 6", withEXIFOrientation(encodeJPEG(t, pat), 6), 750, 1001, blue, [3]uint8{30, 220, 30}},
	} {
		info, err := CheckPhoto(c.data, PhotoLimits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []int{1, 2, 4, 8} {
			p, err := decodeChecked(c.data, info, r)
			if err != nil {
				t.Fatalf("%s, reduced by %d: %v", c.name, r, err)
			}
			mw, mh := ceilDiv(c.w, r), ceilDiv(c.h, r)
			if p.width != c.w || p.height != c.h || p.reduce != r || p.mat.Cols() != mw || p.mat.Rows() != mh {
				t.Errorf("%s, reduced by %d: whole %d×%d, pixels %d×%d; want %d×%d and %d×%d",
					c.name, r, p.width, p.height, p.mat.Cols(), p.mat.Rows(), c.w, c.h, mw, mh)
			}
			for _, px := range []struct {
				x, y int
				want [3]uint8
			}{{1, 1, c.topLeft}, {mw - 2, mh - 2, c.bottomRight}} {
				v := p.mat.GetVecbAt(px.y, px.x)
				for i := range 3 {
					if !near(v[i], px.want[i]) {
						t.Errorf("%s, reduced by %d: pixel (%d,%d) BGR %v, want about %v", c.name, r, px.x, px.y, v, px.want)
						break
					}
				}
			}
			// A box of the whole photo covers the same part of the pixels.
			box := [4]int{c.w / 4, c.h / 4, c.w / 2, c.h / 2}
			got := p.toPixels(box)
			want := image.Rect(box[0]/r, box[1]/r, (box[0]+box[2]+r-1)/r, (box[1]+box[3]+r-1)/r)
			if d := got.Min.Sub(want.Min); abs(d.X) > 1 || abs(d.Y) > 1 || abs(got.Dx()-want.Dx()) > 1 || abs(got.Dy()-want.Dy()) > 1 {
				t.Errorf("%s, reduced by %d: box %v maps to %v, want about %v", c.name, r, box, got, want)
			}
			if q := measureQuality(p, box); q.SizePx != min(box[2], box[3]) || q.Brightness <= 0 {
				t.Errorf("%s, reduced by %d: quality %+v", c.name, r, q)
			}
			// A retry needing the whole longer side decodes again, whole.
			if err := p.ensureLong(c.data, max(c.w, c.h)); err != nil {
				t.Fatal(err)
			}
			if p.reduce != 1 || p.mat.Cols() != c.w || p.mat.Rows() != c.h || p.width != c.w {
				t.Errorf("%s, reduced by %d, then whole: reduce %d, %d×%d pixels", c.name, r, p.reduce, p.mat.Cols(), p.mat.Rows())
			}
			p.Close()
		}
	}
	// Only JPEG decodes reduced.
	png := encodePNG(t, testPattern(64, 48))
	info, err := CheckPhoto(png, PhotoLimits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{2, 3} {
		if p, err := decodeChecked(png, info, r); err == nil {
			p.Close()
			t.Errorf("a PNG decoded reduced by %d", r)
		}
	}
}

func TestCheckPhotoRefuses(t *testing.T) {
	jpg := encodeJPEG(t, testPattern(64, 48))
	pngData := encodePNG(t, testPattern(64, 48))
	webpData := encodeWebP(t, testPattern(64, 48), 90)
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	jpegMagicGarbage := append([]byte("\xff\xd8\xff\xe0"), random[:500]...)
	// An animated WebP: VP8X with the animation flag, canvas 64×48.
	anim := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\x3f\x00\x00\x2f\x00\x00ANIM\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(anim[4:], uint32(len(anim)-8))
	cases := []struct {
		name string
		data []byte
		lim  PhotoLimits
		code string
	}{
		{"zero bytes", nil, PhotoLimits{}, models.EINVALID},
		{"random bytes", random, PhotoLimits{}, models.EUNSUPPORTED},
		{"jpeg magic then garbage", jpegMagicGarbage, PhotoLimits{}, models.ECORRUPT},
		{"gif renamed .jpg", []byte("GIF89a\x40\x00\x30\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"), PhotoLimits{}, models.EUNSUPPORTED},
		{"pdf renamed .jpg", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), PhotoLimits{}, models.EUNSUPPORTED},
		{"png declaring 20000×20000", pngHeaderOnly(20000, 20000), PhotoLimits{}, models.ETOOLARGE},
		{"png declaring 100000×100000", pngHeaderOnly(100000, 100000), PhotoLimits{}, models.ETOOLARGE},
		{"png declaring 40000×1 (side limit)", pngHeaderOnly(40000, 1), PhotoLimits{}, models.ETOOLARGE},
		{"png declaring 0×10", pngHeaderOnly(0, 10), PhotoLimits{}, models.ECORRUPT},
		{"png header only", pngHeaderOnly(64, 48), PhotoLimits{}, models.ECORRUPT},
		{"over the byte limit", jpg, PhotoLimits{MaxBytes: int64(len(jpg) - 1)}, models.ETOOLARGE},
		{"over the pixel limit", jpg, PhotoLimits{MaxPixels: 64*48 - 1}, models.ETOOLARGE},
		{"jpeg cut at 60%", jpg[:len(jpg)*6/10], PhotoLimits{}, models.ECORRUPT},
		{"jpeg without its last byte", jpg[:len(jpg)-1], PhotoLimits{}, models.ECORRUPT},
		{"jpeg cut in the header", jpg[:40], PhotoLimits{}, models.ECORRUPT},
		{"png cut at 90%", pngData[:len(pngData)*9/10], PhotoLimits{}, models.ECORRUPT},
		{"webp cut at 80%", webpData[:len(webpData)*8/10], PhotoLimits{}, models.ECORRUPT},
		{"webp riff only", []byte("RIFF\x04\x00\x00\x00WEBP"), PhotoLimits{}, models.ECORRUPT},
		{"animated webp", anim, PhotoLimits{}, models.EUNSUPPORTED},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CheckPhoto(c.data, c.lim)
			wantCode(t, err, c.code)
			// decodePhoto must refuse the same way without reaching OpenCV.
			_, err = decodePhoto(c.data, c.lim)
			wantCode(t, err, c.code)
		})
	}
}

// TestDecodeAcceptsTrailingBytes: data after a JPEG's end marker (some
// phones append it) is not damage.
func TestDecodeAcceptsTrailingBytes(t *testing.T) {
	jpg := append(encodeJPEG(t, testPattern(64, 48)), "trailing metadata"...)
	if _, w, h := decodeOK(t, jpg, 0, 0); w != 64 || h != 48 {
		t.Fatalf("decoded %d×%d", w, h)
	}
}

// TestDecodeSurvivesCorruptData flips bytes anywhere in valid JPEG, PNG and
// WebP files (PNG CRCs recomputed, so libpng inflates the damage instead of
// refusing it) and decodes each mutant: OpenCV must see thousands of them
// and every outcome must be a BGR image or a typed error, never an abort.
// FuzzDecode cannot steer into OpenCV (its C++ is not instrumented), so
// this is where the C decoders meet damaged pixel data.
func TestDecodeSurvivesCorruptData(t *testing.T) {
	pat := testPattern(64, 48)
	seeds := map[string][]byte{
		"jpeg":          encodeJPEG(t, pat),
		"jpeg exif":     withEXIFOrientation(encodeJPEG(t, pat), 8),
		"png":           encodePNG(t, pat),
		"png 16-bit":    encodePNG(t, image.NewGray16(pat.Bounds())),
		"webp lossy":    encodeWebP(t, pat, 80),
		"webp lossless": encodeWebP(t, pat, 101),
	}
	rng := rand.New(rand.NewPCG(7, 11))
	reached := map[string]int{}
	for name, seed := range seeds {
		for range 1500 {
			m := append([]byte(nil), seed...)
			for range 1 + rng.IntN(8) {
				m[rng.IntN(len(m))] ^= byte(1 + rng.IntN(255))
			}
			if sniffType(seed) == ContentTypePNG {
				fixPNGCRCs(m)
			}
			p, err := decodePhoto(m, PhotoLimits{})
			if err == nil && sniffType(m) == ContentTypeJPEG {
				// The reduced decode of an accepted JPEG meets the damage too.
				p.Close()
				p, err = decodeChecked(m, p.info, []int{2, 4, 8}[rng.IntN(3)])
			}
			switch {
			case err == nil:
				reached[name+" decoded"]++
				if p.mat.Type() != gocv.MatTypeCV8UC3 {
					t.Fatalf("%s mutant decoded to Mat type %v", name, p.mat.Type())
				}
				p.Close()
			case models.ErrorCode(err) == models.EINTERNAL:
				t.Fatalf("%s mutant: untyped error %v", name, err)
			case strings.Contains(err.Error(), "could not be decoded"):
				reached[name+" refused by OpenCV"]++
			}
		}
	}
	t.Logf("mutants that reached OpenCV: %v", reached)
	if reached["jpeg decoded"] == 0 || reached["png decoded"]+reached["png refused by OpenCV"] == 0 {
		t.Errorf("too few mutants reached OpenCV: %v", reached)
	}
}

// fixPNGCRCs rewrites the CRC of every whole chunk in b.
func fixPNGCRCs(b []byte) {
	for i := 8; i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		if n < 0 || i+12+n > len(b) {
			return
		}
		binary.BigEndian.PutUint32(b[i+8+n:], crc32.ChecksumIEEE(b[i+4:i+8+n]))
		i += 12 + n
	}
}

// FuzzDecode feeds arbitrary bytes to the whole decode stage, OpenCV
// included: the process must not abort, and the result is a decoded 8-bit
// BGR image within the limits, or a typed error. Its seeds, in
// testdata/fuzz/FuzzDecode, are small synthesized images of each accepted
// kind (JPEG with and without EXIF orientation, PNG 8/16-bit, WebP lossy and
// lossless) and of refused ones (truncated JPEG, PNG header declaring
// 100000×100000, animated WebP header, GIF magic). Run it with
//
//	go test ./engine -run '^$' -fuzz FuzzDecode -fuzztime 60s
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each input is also tried with its container repaired, so that
		// mutated pixel data gets past the Go-side truncation checks and
		// reaches OpenCV's decoders rather than stopping at CheckPhoto.
		for _, in := range [][]byte{data, repairContainer(data)} {
			fuzzDecodeOnce(t, in)
		}
	})
}

func fuzzDecodeOnce(t *testing.T, data []byte) {
	lim := PhotoLimits{MaxBytes: 1 << 20, MaxPixels: 1 << 20}
	p, err := decodePhoto(data, lim)
	if err != nil {
		if models.ErrorCode(err) == models.EINTERNAL {
			t.Fatalf("untyped error %v", err)
		}
		return
	}
	defer p.Close()
	if p.mat.Empty() || p.mat.Type() != gocv.MatTypeCV8UC3 {
		t.Fatalf("decoded an empty or non-BGR Mat")
	}
	if int64(p.mat.Cols())*int64(p.mat.Rows()) > lim.MaxPixels {
		t.Fatalf("decoded %d×%d, over the limit", p.mat.Cols(), p.mat.Rows())
	}
}

// repairContainer returns data with an end marker appended (JPEG EOI, PNG
// IEND) or its RIFF size set to the data's length (WebP).
func repairContainer(data []byte) []byte {
	out := append([]byte(nil), data...)
	switch sniffType(data) {
	case ContentTypeJPEG:
		return append(out, 0xff, 0xd9)
	case ContentTypePNG:
		return append(out, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82)
	case ContentTypeWebP:
		binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	}
	return out
}
