package engine

// MeasuredFaceSamples are dlib's distances (Euclidean, 128-D, subject faces
// found by the default FacePipeline) per face group, measured on the two
// thirds of the shared photo sets' identities that are not held out (by a
// hash of the identity: `trackmatch eval --people fit`; the other third,
// `--people held-out`, is kept for checking the model on faces it never
// saw). `trackmatch eval` prints the same table for any labelled set
// (faceDistanceTable says how pairs are grouped):
//
//	trackmatch eval --photos ../shared/faces-children --people fit --json F1
//	trackmatch eval --photos ../shared/faces --people fit --json F2
//
// FG-NET children (../shared/faces-children: 16 people, 168 photos with a
// face at ages 0–25) give every group; the unknown-dates group pools every
// pair whatever the dates, FG-NET's and the shared adults' (../shared/faces:
// European and East Asian adults, no dates; their East Asian impostors sit
// at 0.54, near their genuine pairs, and are part of what an undated pair
// could be). Genuine: one person's earlier photo against a later one.
// Impostor: two people, the younger photo taken as the missing child's; a
// stranger does not age toward the child, so every group of an age class
// (under-fives, older) shares one impostor sample.
//
// Under-fives photographed ten or more years apart: genuine 0.633±0.077
// against their impostors' 0.660±0.094. Weak evidence, and counted as
// such (FaceModel.FieldParams), never dropped.
func MeasuredFaceSamples() map[string]FaceSamples {
	return map[string]FaceSamples{
		// genuine and impostor distances: n, mean, sd, counts per band of DefaultFaceBands
		"0-1y": {
			Genuine:  DistanceSample{N: 4, Mean: 0.3554, SD: 0.0421, Bands: []int{0, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7099, SD: 0.0807, Bands: []int{0, 0, 0, 5, 15, 48, 205, 464, 816, 1217, 1498, 2566, 1054}},
		},
		"1-3y": {
			Genuine:  DistanceSample{N: 120, Mean: 0.4092, SD: 0.0708, Bands: []int{4, 26, 26, 24, 23, 9, 6, 2, 0, 0, 0, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7099, SD: 0.0807, Bands: []int{0, 0, 0, 5, 15, 48, 205, 464, 816, 1217, 1498, 2566, 1054}},
		},
		"3-6y": {
			Genuine:  DistanceSample{N: 138, Mean: 0.4618, SD: 0.0805, Bands: []int{3, 11, 18, 20, 23, 36, 12, 9, 4, 2, 0, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7099, SD: 0.0807, Bands: []int{0, 0, 0, 5, 15, 48, 205, 464, 816, 1217, 1498, 2566, 1054}},
		},
		"6-10y": {
			Genuine:  DistanceSample{N: 130, Mean: 0.5170, SD: 0.0861, Bands: []int{1, 3, 10, 9, 21, 23, 20, 17, 15, 11, 0, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7099, SD: 0.0807, Bands: []int{0, 0, 0, 5, 15, 48, 205, 464, 816, 1217, 1498, 2566, 1054}},
		},
		"10y+": {
			Genuine:  DistanceSample{N: 105, Mean: 0.5882, SD: 0.0729, Bands: []int{0, 0, 2, 0, 3, 10, 26, 17, 17, 20, 8, 2, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7099, SD: 0.0807, Bands: []int{0, 0, 0, 5, 15, 48, 205, 464, 816, 1217, 1498, 2566, 1054}},
		},
		"u5:0-3y": {
			Genuine:  DistanceSample{N: 54, Mean: 0.4243, SD: 0.1013, Bands: []int{3, 7, 17, 11, 7, 4, 1, 0, 0, 1, 1, 2, 0}},
			Impostor: DistanceSample{N: 5243, Mean: 0.6604, SD: 0.0944, Bands: []int{0, 0, 9, 41, 103, 229, 425, 628, 745, 799, 755, 1168, 341}},
		},
		"u5:3-6y": {
			Genuine:  DistanceSample{N: 79, Mean: 0.4430, SD: 0.0863, Bands: []int{0, 5, 23, 20, 14, 7, 3, 3, 1, 0, 1, 2, 0}},
			Impostor: DistanceSample{N: 5243, Mean: 0.6604, SD: 0.0944, Bands: []int{0, 0, 9, 41, 103, 229, 425, 628, 745, 799, 755, 1168, 341}},
		},
		"u5:6-10y": {
			Genuine:  DistanceSample{N: 101, Mean: 0.5176, SD: 0.0867, Bands: []int{1, 3, 5, 9, 12, 20, 25, 11, 8, 2, 2, 3, 0}},
			Impostor: DistanceSample{N: 5243, Mean: 0.6604, SD: 0.0944, Bands: []int{0, 0, 9, 41, 103, 229, 425, 628, 745, 799, 755, 1168, 341}},
		},
		"u5:10y+": {
			Genuine:  DistanceSample{N: 166, Mean: 0.6326, SD: 0.0774, Bands: []int{0, 0, 1, 1, 3, 6, 16, 34, 25, 32, 31, 14, 3}},
			Impostor: DistanceSample{N: 5243, Mean: 0.6604, SD: 0.0944, Bands: []int{0, 0, 9, 41, 103, 229, 425, 628, 745, 799, 755, 1168, 341}},
		},
		"unknown": {
			Genuine:  DistanceSample{N: 1002, Mean: 0.5033, SD: 0.1164, Bands: []int{21, 70, 120, 105, 122, 129, 121, 98, 73, 73, 44, 23, 3}},
			Impostor: DistanceSample{N: 14856, Mean: 0.7081, SD: 0.1080, Bands: []int{0, 1, 12, 51, 142, 308, 682, 1129, 1592, 2030, 2286, 3951, 2672}},
		},
	}
}
