package face

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"

	"gocv.io/x/gocv"
	"golang.org/x/image/webp"

	"github.com/trackmatch/trackmatch/models"
)

// Limits on a photo, checked in Go before OpenCV sees a byte. gocv's C++ has
// no try/catch: an OpenCV assertion (a header declaring 100000×100000 pixels,
// an empty buffer) aborts the whole process, so nothing unchecked reaches it.
const (
	// DefaultMaxPhotoBytes is the default limit on a photo's encoded size.
	DefaultMaxPhotoBytes = 20 << 20
	// DefaultMaxPhotoPixels is the default limit on declared width × height:
	// 40 megapixels, above any phone camera, far below a decompression bomb.
	DefaultMaxPhotoPixels = 40_000_000
	// MaxPhotoSide bounds either side whatever the pixel limit, below
	// OpenCV's own per-side assertion (2^20), which would abort the process.
	MaxPhotoSide = 1 << 15
	// MinPhotoSide is the shortest side a photo may have: the smallest face
	// the cascade finds is about 20 px (the CNN step at 2× gives it its
	// minimum of MinCNNSide), so a smaller image holds no face it can find,
	// and dlib must never see it (see MinCNNSide).
	MinPhotoSide = MinCNNSide / 2
)

// Content types of the photos trackmatch reads.
const (
	ContentTypeJPEG = "image/jpeg"
	ContentTypePNG  = "image/png"
	ContentTypeWebP = "image/webp"
)

// PhotoLimits bounds the photos CheckPhoto accepts; a zero field takes its
// default (DefaultMaxPhotoBytes, DefaultMaxPhotoPixels).
type PhotoLimits struct {
	MaxBytes  int64
	MaxPixels int64
}

func (l PhotoLimits) withDefaults() PhotoLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxPhotoBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPhotoPixels
	}
	return l
}

// PhotoInfo is what a photo's bytes declare, read in Go without decoding
// the pixels. Width and Height are as stored, before EXIF orientation.
type PhotoInfo struct {
	ContentType string
	Width       int
	Height      int
}

// CheckPhoto sniffs data's type and reads its declared size in pure Go, and
// checks the file's structure for truncation, without decoding pixels. It
// returns an *models.Error: EINVALID for no bytes, ETOOLARGE over a limit,
// ETOOSMALL under MinPhotoSide,
// EUNSUPPORTED for anything but JPEG, PNG and still WebP, ECORRUPT for a
// truncated or malformed file. Only bytes it accepts are safe for OpenCV.
func CheckPhoto(data []byte, lim PhotoLimits) (PhotoInfo, error) {
	lim = lim.withDefaults()
	if len(data) == 0 {
		return PhotoInfo{}, models.Errorf(models.EINVALID, "the photo is empty (0 bytes)")
	}
	if int64(len(data)) > lim.MaxBytes {
		return PhotoInfo{}, models.Errorf(models.ETOOLARGE, "the photo is %d bytes, over the limit of %d", len(data), lim.MaxBytes)
	}
	info := PhotoInfo{ContentType: sniffType(data)}
	var (
		cfg image.Config
		err error
	)
	r := bytes.NewReader(data)
	switch info.ContentType {
	case ContentTypeJPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case ContentTypePNG:
		cfg, err = png.DecodeConfig(r)
	case ContentTypeWebP:
		if len(data) > 20 && bytes.Equal(data[12:16], []byte("VP8X")) && data[20]&webpAnimationBit != 0 {
			return PhotoInfo{}, models.Errorf(models.EUNSUPPORTED, "animated WebP is not supported; send a still photo")
		}
		cfg, err = webp.DecodeConfig(r)
	default:
		return PhotoInfo{}, models.Errorf(models.EUNSUPPORTED, "%s; send a JPEG, PNG or WebP photo", describeUnsupported(data))
	}
	if err != nil {
		return PhotoInfo{}, headerError(info.ContentType, err)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if info.Width <= 0 || info.Height <= 0 {
		return PhotoInfo{}, models.Errorf(models.ECORRUPT, "the %s header declares %d×%d pixels", info.ContentType, info.Width, info.Height)
	}
	if info.Width > MaxPhotoSide || info.Height > MaxPhotoSide ||
		int64(info.Width)*int64(info.Height) > lim.MaxPixels {
		return PhotoInfo{}, models.Errorf(models.ETOOLARGE, "the photo declares %d×%d pixels, over the limit of %d pixels (%d per side)",
			info.Width, info.Height, lim.MaxPixels, MaxPhotoSide)
	}
	if min(info.Width, info.Height) < MinPhotoSide {
		return PhotoInfo{}, models.Errorf(models.ETOOSMALL, "the photo is %d×%d pixels; a face needs at least %d pixels on each side for trackmatch to find it",
			info.Width, info.Height, MinPhotoSide)
	}
	switch info.ContentType {
	case ContentTypeJPEG:
		err = checkJPEGStructure(data)
	case ContentTypePNG:
		err = checkPNGStructure(data)
	case ContentTypeWebP:
		err = checkWebPStructure(data, info)
	}
	if err != nil {
		return PhotoInfo{}, models.Errorf(models.ECORRUPT, "the %s file is damaged: %v", info.ContentType, err)
	}
	return info, nil
}

const webpAnimationBit = 1 << 1

// sniffType names data's type from its magic bytes, or "" when it is not one
// trackmatch reads. It does not use image.DecodeConfig's registry, which any
// linked package can extend (image/gif, say).
func sniffType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return ContentTypeJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return ContentTypePNG
	case len(data) >= 12 && bytes.HasPrefix(data, []byte("RIFF")) && bytes.Equal(data[8:12], []byte("WEBP")):
		return ContentTypeWebP
	}
	return ""
}

// describeUnsupported names a few formats people upload by mistake, so the
// message tells them what they sent.
func describeUnsupported(data []byte) string {
	prefixes := []struct{ magic, name string }{
		{"GIF87a", "a GIF image"}, {"GIF89a", "a GIF image"}, {"%PDF", "a PDF document"},
		{"BM", "a BMP image"}, {"II*\x00", "a TIFF image"}, {"MM\x00*", "a TIFF image"},
		{"\x00\x00\x01\x00", "an ICO image"}, {"PK\x03\x04", "a ZIP archive"},
	}
	for _, p := range prefixes {
		if bytes.HasPrefix(data, []byte(p.magic)) {
			return "the file is " + p.name
		}
	}
	if len(data) >= 12 && string(data[4:8]) == "ftyp" {
		return "the file is a HEIF/HEIC or MP4 file"
	}
	return "the file is not a JPEG, PNG or WebP image"
}

// headerError types an error from a Go header decoder.
func headerError(contentType string, err error) error {
	var (
		ju jpeg.UnsupportedError
		pu png.UnsupportedError
	)
	if errors.As(err, &ju) || errors.As(err, &pu) {
		return models.Errorf(models.EUNSUPPORTED, "this kind of %s is not supported (%v)", contentType, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return models.Errorf(models.ECORRUPT, "the %s file is truncated in its header", contentType)
	}
	return models.Errorf(models.ECORRUPT, "the %s header is malformed (%v)", contentType, err)
}

var errTruncated = errors.New("truncated (the file ends early)")

// checkJPEGStructure walks the JPEG's markers to the end-of-image marker.
// libjpeg silently fills a truncated JPEG with grey (measured: OpenCV 4.6
// returns a full-size Mat for a JPEG cut at 60%), so a cut-off upload would
// otherwise be embedded as half a face. The walk is one pass over the bytes,
// far cheaper than decoding the image in Go as well.
func checkJPEGStructure(b []byte) error {
	i := 2 // after SOI
	sawScan := false
	for {
		// Bytes between segments are tolerated, as libjpeg and Go do.
		for i < len(b) && b[i] != 0xff {
			i++
		}
		for i < len(b) && b[i] == 0xff {
			i++
		}
		if i >= len(b) {
			return errTruncated
		}
		m := b[i]
		i++
		switch {
		case m == 0xd9: // EOI; anything after it is ignored
			if !sawScan {
				return errors.New("no image data before the end marker")
			}
			return nil
		case m == 0x00, m == 0x01, m >= 0xd0 && m <= 0xd8: // no length field
			continue
		}
		if i+2 > len(b) {
			return errTruncated
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 {
			return fmt.Errorf("segment 0xFF%02X has length %d", m, n)
		}
		if i+n > len(b) {
			return errTruncated
		}
		i += n
		if m != 0xda { // not SOS
			continue
		}
		sawScan = true
		// Entropy-coded data runs to the next marker other than a stuffed
		// zero (FF00) or a restart marker (FFD0-FFD7).
		for {
			j := bytes.IndexByte(b[i:], 0xff)
			if j < 0 {
				return errTruncated
			}
			k := i + j + 1
			for k < len(b) && b[k] == 0xff {
				k++
			}
			if k >= len(b) {
				return errTruncated
			}
			if b[k] == 0x00 || (b[k] >= 0xd0 && b[k] <= 0xd7) {
				i = k + 1
				continue
			}
			i = k - 1 // at the 0xFF before the marker
			break
		}
	}
}

// checkPNGStructure walks the PNG's chunks to IEND. libpng refuses a
// truncated PNG too, but only after OpenCV has allocated the image and
// printed to stderr; this says why in the error instead.
func checkPNGStructure(b []byte) error {
	i := 8
	sawData := false
	for {
		if i+8 > len(b) {
			return errTruncated
		}
		n := uint64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		end := uint64(i) + 8 + n + 4 // length, type, data, CRC
		if n > 1<<31-1 {
			return fmt.Errorf("chunk %q has length %d", typ, n)
		}
		if end > uint64(len(b)) {
			return errTruncated
		}
		switch typ {
		case "IDAT":
			sawData = true
		case "IEND":
			if !sawData {
				return errors.New("no image data (IDAT) before IEND")
			}
			return nil
		}
		i = int(end)
	}
}

// checkWebPStructure checks that the RIFF container is complete and that
// the bitstream's own dimensions match what the header declared, so that a
// small VP8X canvas cannot front a huge image.
func checkWebPStructure(b []byte, info PhotoInfo) error {
	size := uint64(binary.LittleEndian.Uint32(b[4:8])) + 8
	if size > uint64(len(b)) {
		return errTruncated
	}
	b = b[:size]
	for i := 12; i+8 <= len(b); {
		id := string(b[i : i+4])
		n := uint64(binary.LittleEndian.Uint32(b[i+4:]))
		start := uint64(i) + 8
		end := start + n
		if end > uint64(len(b)) {
			return errTruncated
		}
		chunk := b[start:end]
		var w, h int
		switch id {
		case "VP8 ":
			// Frame tag (3 bytes), start code (3), then 14-bit width and height.
			if len(chunk) < 10 {
				return errTruncated
			}
			w = int(binary.LittleEndian.Uint16(chunk[6:]) & 0x3fff)
			h = int(binary.LittleEndian.Uint16(chunk[8:]) & 0x3fff)
		case "VP8L":
			// Signature 0x2f, then 14-bit width-1 and height-1.
			if len(chunk) < 5 {
				return errTruncated
			}
			bits := binary.LittleEndian.Uint32(chunk[1:])
			w = int(bits&0x3fff) + 1
			h = int((bits>>14)&0x3fff) + 1
		default:
			i = int(end + (n & 1)) // chunks are padded to even length
			continue
		}
		if w != info.Width || h != info.Height {
			return fmt.Errorf("the image is %d×%d but the header declares %d×%d", w, h, info.Width, info.Height)
		}
		return nil
	}
	return errors.New("no image data (VP8 or VP8L chunk)")
}

// decodedPhoto is a photo decoded to 8-bit BGR pixels, EXIF orientation
// applied, possibly at a reduced size (see decodeReduction). Its Mat must be
// closed.
type decodedPhoto struct {
	info PhotoInfo
	mat  gocv.Mat // CV_8UC3, never empty
	// reduce is the factor the pixels were decoded smaller by: mat holds
	// ceil(width/reduce)×ceil(height/reduce) pixels of the photo.
	reduce int
	// width and height are the whole photo's, after orientation.
	width, height int
}

// Close frees the pixels.
func (d *decodedPhoto) Close() { d.mat.Close() }

// decodePhoto checks data with CheckPhoto, then decodes it whole with OpenCV.
//
// gocv.IMDecode with IMReadColor converts every accepted variant (grey,
// 16-bit, palette, alpha) to 8-bit BGR, and on OpenCV 4.6 applies a JPEG's
// EXIF orientation itself (measured: orientation 6 and 8 swap the sides;
// IMReadUnchanged would not rotate). Alpha is dropped, not composited.
func decodePhoto(data []byte, lim PhotoLimits) (*decodedPhoto, error) {
	info, err := CheckPhoto(data, lim)
	if err != nil {
		return nil, err
	}
	return decodeChecked(data, info, 1)
}

// decodeReduction is the largest factor (1, 2, 4 or 8) by which libjpeg can
// decode the photo info describes and still give a longer side of at least
// minLong pixels. libjpeg shrinks in the DCT, which filters properly and
// skips part of the work (entropy decoding, often most of it, remains):
// measured on the shared photos, a 3000 px JPEG decodes at 1/2 in 83 ms of
// CPU instead of 118, a 1920 px one in 8 instead of 13, and what is left to
// resize is smaller. Other formats decode whole: OpenCV would only resize
// them after decoding.
func decodeReduction(info PhotoInfo, minLong int) int {
	if info.ContentType != ContentTypeJPEG {
		return 1
	}
	long := max(info.Width, info.Height)
	for _, r := range []int{8, 4, 2} {
		if ceilDiv(long, r) >= minLong {
			return r
		}
	}
	return 1
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// readFlag is OpenCV's read flag for a reduction factor, false for none.
func readFlag(reduce int) (gocv.IMReadFlag, bool) {
	switch reduce {
	case 1:
		return gocv.IMReadColor, true
	case 2:
		return gocv.IMReadReducedColor2, true
	case 4:
		return gocv.IMReadReducedColor4, true
	case 8:
		return gocv.IMReadReducedColor8, true
	}
	return 0, false
}

// decodeChecked decodes data, which CheckPhoto accepted as info, smaller by
// reduce (1, 2, 4 or 8; anything but 1 for a JPEG only). libjpeg's output of
// a reduced decode is ceil(side/reduce) pixels per side, which is checked
// as the whole size is.
func decodeChecked(data []byte, info PhotoInfo, reduce int) (*decodedPhoto, error) {
	flag, ok := readFlag(reduce)
	if !ok || (reduce != 1 && info.ContentType != ContentTypeJPEG) {
		return nil, fmt.Errorf("decode photo: reduction %d of a %s", reduce, info.ContentType)
	}
	mat, err := gocv.IMDecode(data, flag)
	if err != nil {
		mat.Close()
		return nil, fmt.Errorf("decode photo: %w", err)
	}
	if mat.Empty() {
		mat.Close()
		return nil, models.Errorf(models.ECORRUPT, "the %s file could not be decoded", info.ContentType)
	}
	w, h := mat.Cols(), mat.Rows()
	rw, rh := ceilDiv(info.Width, reduce), ceilDiv(info.Height, reduce)
	d := &decodedPhoto{info: info, mat: mat, reduce: reduce}
	switch {
	case mat.Type() != gocv.MatTypeCV8UC3:
	case w == rw && h == rh:
		d.width, d.height = info.Width, info.Height
	case w == rh && h == rw: // rotated by its EXIF orientation
		d.width, d.height = info.Height, info.Width
	}
	if d.width == 0 {
		mat.Close()
		return nil, models.Errorf(models.ECORRUPT, "the %s file decoded to %d×%d pixels but declares %d×%d (reduced by %d: %d×%d)",
			info.ContentType, w, h, info.Width, info.Height, reduce, rw, rh)
	}
	return d, nil
}

// ensureLong makes sure the pixels have a longer side of at least minLong,
// or are the whole photo: a retry that needs more detail than the first
// decode kept decodes data (the photo's bytes) again, less reduced.
func (d *decodedPhoto) ensureLong(data []byte, minLong int) error {
	r := decodeReduction(d.info, minLong)
	if r >= d.reduce {
		return nil
	}
	nd, err := decodeChecked(data, d.info, r)
	if err != nil {
		return err
	}
	if nd.width != d.width || nd.height != d.height {
		nd.Close()
		return models.Errorf(models.ECORRUPT, "the %s file decodes to a different shape at another size", d.info.ContentType)
	}
	d.mat.Close()
	*d = *nd
	return nil
}

// toPixels maps box (x, y, w, h in pixels of the whole oriented photo) to
// pixels of mat, rounding outwards and clipping to it.
func (d *decodedPhoto) toPixels(box [4]int) image.Rectangle {
	if d.reduce == 1 {
		return image.Rect(box[0], box[1], box[0]+box[2], box[1]+box[3]).Intersect(image.Rect(0, 0, d.mat.Cols(), d.mat.Rows()))
	}
	fx := float64(d.mat.Cols()) / float64(d.width)
	fy := float64(d.mat.Rows()) / float64(d.height)
	r := image.Rect(
		int(math.Floor(float64(box[0])*fx)), int(math.Floor(float64(box[1])*fy)),
		int(math.Ceil(float64(box[0]+box[2])*fx)), int(math.Ceil(float64(box[1]+box[3])*fy)))
	return r.Intersect(image.Rect(0, 0, d.mat.Cols(), d.mat.Rows()))
}

// landmarksToPixels maps 5 landmarks (pixel centres of the whole oriented
// photo) to pixels of mat.
func (d *decodedPhoto) landmarksToPixels(lm []models.Point) [5][2]float64 {
	fx := float64(d.mat.Cols()) / float64(d.width)
	fy := float64(d.mat.Rows()) / float64(d.height)
	var out [5][2]float64
	for i := range min(len(lm), 5) {
		out[i] = [2]float64{(float64(lm[i].X)+0.5)*fx - 0.5, (float64(lm[i].Y)+0.5)*fy - 0.5}
	}
	return out
}
