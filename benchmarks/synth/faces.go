package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/trackmatch/trackmatch/models"
)

// Synthetic face descriptors whose distances follow dlib's ResNet model as
// measured: the distance between two photos of one person (genuine) and of
// two people (impostor) have the means and spreads below. A descriptor is
//
//	centre + drift + noise
//
// where centre is the person's (a random direction, radius² drawn per
// person), noise is the photo's (a random direction, radius² drawn per
// photo), and drift, for children, moves the face along a direction of the
// person's own as the years pass (radius² κ(years)·z, z drawn per person).
// In 128 dimensions random directions are nearly orthogonal, so squared
// distances add: genuine d² ≈ κ·z + r₁² + r₂², impostor d² ≈ R₁² + R₂² +
// r₁² + r₂². The profile's parameters are solved from the targets with
// those sums and the variance of the cross terms (a dot product of two
// random directions has variance 1/128); TestFaceDistances checks the
// sampled distances against the targets.

// DistanceTarget is the mean and standard deviation of a distance
// distribution.
type DistanceTarget struct {
	Mean, SD float64
}

// GenuineBand is the same-person distance between photos taken From <= years
// apart < To.
type GenuineBand struct {
	From, To float64
	DistanceTarget
}

// FaceProfile is one population's descriptor model; see the package note
// on faces. Build one with AdultFaces or ChildFaces.
type FaceProfile struct {
	Name string
	// Genuine and Impostor are the measured distances the profile is
	// solved from: same person by years apart, and different people.
	Genuine  []GenuineBand
	Impostor DistanceTarget
	// NoiseSq is the mean and variance of a photo's noise radius².
	NoiseSq, NoiseSqVar float64
	// CentreSq is the mean and variance of a person's centre radius².
	CentreSq, CentreSqVar float64
	// DriftKnots are (years, κ) points of the mean drift radius² (linear
	// between them, extended with the last slope); nil for no drift.
	DriftKnots [][2]float64
	// DriftVar is the variance of the per-person factor z (mean 1).
	DriftVar float64
}

// dotVar is the variance of the dot product of two random unit directions
// in the descriptor space.
const dotVar = 1.0 / models.DescriptorSize

// squareMoments returns E[d²] and Var(d²) of a distance with target t,
// taking the distance as normal: Var(d²) = 4μ²σ² + 2σ⁴.
func squareMoments(t DistanceTarget) (mean, variance float64) {
	m, s := t.Mean, t.SD
	return m*m + s*s, 4*m*m*s*s + 2*s*s*s*s
}

// centreFor solves the centre's radius² moments from an impostor target,
// given the noise's.
func (p *FaceProfile) centreFor(imp DistanceTarget) {
	e, v := squareMoments(imp)
	a, b := p.NoiseSq, p.NoiseSqVar
	c := (e - 2*a) / 2
	// d² = |c₁−c₂|² + |e₁−e₂|² + 2(c₁−c₂)·(e₁−e₂); each term's variance:
	rest := 4*c*c*dotVar + 4*(2*c)*(2*a)*dotVar + 2*b + 4*a*a*dotVar
	p.CentreSq, p.CentreSqVar = c, math.Max((v-rest)/2, 1e-6)
}

// AdultFaces is the adult profile, from the real model's distances on the
// shared face set: genuine 0.44 (sd 0.08) whatever the years, impostor
// 0.83 (sd 0.08); no drift.
func AdultFaces() FaceProfile {
	p := FaceProfile{Name: "adults", Genuine: []GenuineBand{{0, 100, DistanceTarget{0.44, 0.08}}},
		Impostor: DistanceTarget{0.83, 0.08}}
	e, v := squareMoments(p.Genuine[0].DistanceTarget)
	a := e / 2
	p.NoiseSq, p.NoiseSqVar = a, math.Max((v-4*a*a*dotVar)/2, 1e-6)
	p.centreFor(p.Impostor)
	return p
}

// ChildFaces is the children's profile, from the real model's distances on
// FG-NET: genuine by whole years between the photos 0-2: 0.406 (sd 0.081),
// 3-5: 0.447 (0.081), 6-10: 0.509 (0.087), 11+: 0.596 (0.100); impostor
// 0.716 (0.093), between photos taken on each child's first date.
func ChildFaces() FaceProfile {
	p := FaceProfile{Name: "children", Genuine: []GenuineBand{
		{0, 3, DistanceTarget{0.406, 0.081}},
		{3, 6, DistanceTarget{0.447, 0.081}},
		{6, 11, DistanceTarget{0.509, 0.087}},
		{11, 16, DistanceTarget{0.596, 0.100}},
	}, Impostor: DistanceTarget{0.716, 0.093}}
	bands := p.Genuine
	mid := func(i int) float64 { return (bands[i].From + bands[i].To) / 2 }
	e := make([]float64, len(bands))
	v := make([]float64, len(bands))
	for i, b := range bands {
		e[i], v[i] = squareMoments(b.DistanceTarget)
	}
	// κ is 0 at 0 years and the first two knots lie on one line, which
	// fixes κ at the first knot; the noise takes the rest of band 0.
	k1 := (e[1] - e[0]) * mid(0) / (mid(1) - mid(0))
	a := (e[0] - k1) / 2
	p.NoiseSq, p.DriftKnots = a, [][2]float64{{0, 0}}
	for i := range bands {
		p.DriftKnots = append(p.DriftKnots, [2]float64{mid(i), e[i] - 2*a})
	}
	// Var(d²) in band i = E[κ²]·DriftVar + Var(κ) + 2·NoiseSqVar + cross
	// terms; solve the two unknowns from the first and the last band.
	type moments struct{ k, k2, vk float64 }
	bandMoments := func(i int) moments {
		const n = 400
		var s, s2 float64
		for j := range n {
			g := bands[i].From + (float64(j)+0.5)/n*(bands[i].To-bands[i].From)
			k := p.drift(g)
			s += k
			s2 += k * k
		}
		s, s2 = s/n, s2/n
		return moments{s, s2, s2 - s*s}
	}
	resid := func(i int) (m moments, r float64) {
		m = bandMoments(i)
		cross := 4 * (2*m.k*a + a*a) * dotVar
		return m, v[i] - m.vk - cross
	}
	m0, r0 := resid(0)
	m3, r3 := resid(len(bands) - 1)
	p.DriftVar = math.Max((r3-r0)/(m3.k2-m0.k2), 0)
	p.NoiseSqVar = math.Max((r0-m0.k2*p.DriftVar)/2, 1e-6)
	p.centreFor(p.Impostor)
	return p
}

// drift returns κ(years), the mean drift radius² after years.
func (p *FaceProfile) drift(years float64) float64 {
	ks := p.DriftKnots
	if len(ks) < 2 || years <= 0 {
		return 0
	}
	for i := 1; i < len(ks); i++ {
		if years <= ks[i][0] || i == len(ks)-1 {
			x0, y0, x1, y1 := ks[i-1][0], ks[i-1][1], ks[i][0], ks[i][1]
			return math.Max(y0+(years-x0)*(y1-y0)/(x1-x0), 0)
		}
	}
	return 0
}

// Faces draws synthetic face descriptors for one profile. Seeded and
// reproducible; not safe for concurrent use.
type Faces struct {
	rng *rand.Rand
	p   FaceProfile
}

// NewFaces returns a generator whose output depends only on seed and p.
func NewFaces(seed int64, p FaceProfile) *Faces {
	return &Faces{rng: rand.New(rand.NewPCG(uint64(seed), 0xfacefacefaceface)), p: p}
}

// FaceIdentity is one synthetic person's face.
type FaceIdentity struct {
	centre, drift [models.DescriptorSize]float64
	z             float64
}

// Identity draws a new person.
func (f *Faces) Identity() *FaceIdentity {
	id := &FaceIdentity{z: f.gamma(1, f.p.DriftVar)}
	r := math.Sqrt(f.gamma(f.p.CentreSq, f.p.CentreSqVar))
	f.direction(&id.centre, r)
	f.direction(&id.drift, 1)
	return id
}

// Photo returns a descriptor of a photo of id taken yearsLater years after
// the person's first photo (0 for the first).
func (f *Faces) Photo(id *FaceIdentity, yearsLater float64) models.Descriptor {
	var noise [models.DescriptorSize]float64
	f.direction(&noise, math.Sqrt(f.gamma(f.p.NoiseSq, f.p.NoiseSqVar)))
	s := math.Sqrt(f.p.drift(math.Abs(yearsLater)) * id.z)
	var d models.Descriptor
	for i := range d {
		d[i] = float32(id.centre[i] + s*id.drift[i] + noise[i])
	}
	return d
}

// direction fills v with a uniformly random direction of length r.
func (f *Faces) direction(v *[models.DescriptorSize]float64, r float64) {
	var n float64
	for i := range v {
		v[i] = f.rng.NormFloat64()
		n += v[i] * v[i]
	}
	n = r / math.Sqrt(n)
	for i := range v {
		v[i] *= n
	}
}

// gamma draws from the gamma distribution with the given mean and variance
// (mean itself when variance is 0), by Marsaglia and Tsang's method.
func (f *Faces) gamma(mean, variance float64) float64 {
	if variance <= 0 {
		return mean
	}
	k, theta := mean*mean/variance, variance/mean
	boost := 1.0
	if k < 1 { // Gamma(k) = Gamma(k+1) · U^(1/k)
		boost = math.Pow(f.rng.Float64(), 1/k)
		k++
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := f.rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := f.rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v * theta * boost
		}
	}
}

// FacePhoto is the stored form of a photo of child showing one face with
// descriptor d, taken on the child's observed date: what the face pipeline
// would have stored, for filling a store without decoding images.
func FacePhoto(child *models.Child, photoID string, d models.Descriptor) models.Photo {
	return models.Photo{
		ID: photoID, ChildID: child.ID, ContentType: "image/jpeg", Width: 480, Height: 640,
		SHA256: fmt.Sprintf("%064x", photoID), TakenOn: child.ObservedOn, Subject: 0, CreatedAt: child.UpdatedAt,
		Faces: []models.Face{{Box: [4]int{120, 160, 240, 240}, Descriptor: &d,
			Quality: models.FaceQuality{SizePx: 240, Blur: 400, Brightness: 120, Detector: models.DetectorHOG}}},
	}
}
