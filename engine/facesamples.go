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
// the same scale, so its evidence is somewhat overstated: run
// `trackmatch reembed` after turning MobileFaceNet on.
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
