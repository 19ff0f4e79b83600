package engine

// MeasuredFaceSamples are the face distances as the engine scores them per
// face group: both models' distances read together on dlib's scale
// (FaceFusion.Distance with DefaultFaceFusion; undated pairs by its
// Unknown group), from the subject faces found by the default FacePipeline,
// measured on the two thirds of the shared photo sets' identities that are
// not held out (by a hash of the identity: `trackmatch eval --people fit`;
// the other third, `--people held-out`, is kept for checking the model on
// faces it never saw). `trackmatch eval` prints the same table for any
// labelled set ("Both models' distances read together"; faceDistanceTable
// says how pairs are grouped):
//
//	trackmatch eval --photos ../shared/faces-children --people fit --json F1
//	trackmatch eval --photos ../shared/faces --people fit --json F2
//
// Measured on dlib's distances alone, the bands understated what a fused
// distance says (its genuine pairs sit nearer and its impostors farther:
// 6-10 years apart, genuine 0.479±0.100 against dlib's 0.517±0.086,
// impostors 0.767±0.091 against 0.710±0.081), which left face-only
// probabilities under-confident. A pair scored by dlib alone (no
// MobileFaceNet descriptor on one side, or --face-models dlib) is read on
// dlib's own bands instead (MeasuredDlibFaceSamples, FaceScaleDlib), which
// these would overstate.
//
// FG-NET children (../shared/faces-children: 16 people, 168 photos with a
// face at ages 0–25) give every group; the unknown-dates group pools every
// pair whatever the dates, read as undated, FG-NET's and the shared
// adults' (../shared/faces: European and East Asian adults, no dates).
// Genuine: one person's earlier photo against a later one. Impostor: two
// people, the younger photo taken as the missing child's; a stranger does
// not age toward the child, so every group of an age class (under-fives,
// older) shares one impostor sample.
//
// Under-fives photographed ten or more years apart: genuine 0.640±0.096
// against their impostors' 0.700±0.106. Weak evidence, and counted as
// such (FaceModel.FieldParams), never dropped.
func MeasuredFaceSamples() map[string]FaceSamples {
	return map[string]FaceSamples{
		// genuine and impostor distances: n, mean, sd, counts per band of DefaultFaceBands
		"0-1y": {
			Genuine:  DistanceSample{N: 4, Mean: 0.2956, SD: 0.0576, Bands: []int{2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7671, SD: 0.0913, Bands: []int{0, 0, 0, 2, 9, 35, 81, 172, 344, 686, 1004, 2651, 2904}},
		},
		"1-3y": {
			Genuine:  DistanceSample{N: 120, Mean: 0.3654, SD: 0.0880, Bands: []int{34, 21, 29, 12, 6, 13, 2, 3, 0, 0, 0, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7671, SD: 0.0913, Bands: []int{0, 0, 0, 2, 9, 35, 81, 172, 344, 686, 1004, 2651, 2904}},
		},
		"3-6y": {
			Genuine:  DistanceSample{N: 138, Mean: 0.4361, SD: 0.0932, Bands: []int{9, 20, 19, 25, 19, 25, 7, 8, 5, 1, 0, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7671, SD: 0.0913, Bands: []int{0, 0, 0, 2, 9, 35, 81, 172, 344, 686, 1004, 2651, 2904}},
		},
		"6-10y": {
			Genuine:  DistanceSample{N: 130, Mean: 0.4789, SD: 0.0996, Bands: []int{3, 11, 12, 21, 18, 22, 10, 16, 13, 3, 1, 0, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7671, SD: 0.0913, Bands: []int{0, 0, 0, 2, 9, 35, 81, 172, 344, 686, 1004, 2651, 2904}},
		},
		"10y+": {
			Genuine:  DistanceSample{N: 105, Mean: 0.5638, SD: 0.0888, Bands: []int{1, 1, 0, 6, 13, 11, 23, 11, 17, 15, 3, 4, 0}},
			Impostor: DistanceSample{N: 7888, Mean: 0.7671, SD: 0.0913, Bands: []int{0, 0, 0, 2, 9, 35, 81, 172, 344, 686, 1004, 2651, 2904}},
		},
		"u5:0-3y": {
			Genuine:  DistanceSample{N: 54, Mean: 0.4219, SD: 0.1798, Bands: []int{8, 6, 19, 6, 5, 3, 1, 2, 0, 0, 0, 0, 4}},
			Impostor: DistanceSample{N: 5243, Mean: 0.7005, SD: 0.1056, Bands: []int{0, 0, 1, 23, 70, 162, 276, 405, 597, 669, 701, 1402, 937}},
		},
		"u5:3-6y": {
			Genuine:  DistanceSample{N: 79, Mean: 0.4270, SD: 0.1130, Bands: []int{1, 15, 23, 14, 10, 8, 3, 1, 1, 0, 0, 1, 2}},
			Impostor: DistanceSample{N: 5243, Mean: 0.7005, SD: 0.1056, Bands: []int{0, 0, 1, 23, 70, 162, 276, 405, 597, 669, 701, 1402, 937}},
		},
		"u5:6-10y": {
			Genuine:  DistanceSample{N: 101, Mean: 0.5096, SD: 0.1223, Bands: []int{4, 2, 11, 14, 9, 12, 17, 20, 4, 2, 1, 1, 4}},
			Impostor: DistanceSample{N: 5243, Mean: 0.7005, SD: 0.1056, Bands: []int{0, 0, 1, 23, 70, 162, 276, 405, 597, 669, 701, 1402, 937}},
		},
		"u5:10y+": {
			Genuine:  DistanceSample{N: 166, Mean: 0.6403, SD: 0.0960, Bands: []int{1, 0, 0, 1, 4, 8, 22, 23, 24, 27, 23, 24, 9}},
			Impostor: DistanceSample{N: 5243, Mean: 0.7005, SD: 0.1056, Bands: []int{0, 0, 1, 23, 70, 162, 276, 405, 597, 669, 701, 1402, 937}},
		},
		"unknown": {
			Genuine:  DistanceSample{N: 1002, Mean: 0.4932, SD: 0.1316, Bands: []int{49, 91, 138, 104, 114, 103, 80, 109, 82, 47, 37, 32, 16}},
			Impostor: DistanceSample{N: 14856, Mean: 0.7227, SD: 0.0952, Bands: []int{0, 0, 1, 31, 113, 269, 482, 799, 1200, 1706, 2051, 4946, 3258}},
		},
	}
}

// MeasuredDlibFaceSamples are dlib's own distances (Euclidean, 128-D,
// subject faces found by the default FacePipeline) per face group,
// measured as MeasuredFaceSamples were, on the same identities, before the
// two models were read together: the bands of a pair scored by dlib alone
// (FaceScaleDlib), whose distances sit farther for one child and nearer
// for two than fused ones. `trackmatch eval` prints them beside the fused
// table when the photos have both models' descriptors, and as the table
// when they have dlib's alone.
//
// Their East Asian adult impostors sit at 0.54, near their genuine pairs,
// and are part of what an undated pair could be. Under-fives photographed
// ten or more years apart: genuine 0.633±0.077 against their impostors'
// 0.660±0.094.
func MeasuredDlibFaceSamples() map[string]FaceSamples {
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
