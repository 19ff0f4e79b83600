package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackmatch/trackmatch/engine/face"
)

// registerMetrics exposes the engine's and the indexes' figures on /metrics.
func (a *app) registerMetrics(reg *prometheus.Registry) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_photos_analyzed_total", Help: "Photos run through the face pipeline.",
		}, func() float64 { return float64(a.photos.Stats().Analyzed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_photos_no_face_total", Help: "Photos in which no face was found.",
		}, func() float64 { return float64(a.photos.Stats().NoFace) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_faces_embedded_total", Help: "Faces found and embedded.",
		}, func() float64 { return float64(a.photos.Stats().Faces) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "trackmatch_vector_index_faces", Help: "Face descriptors in the in-memory vector index.",
		}, func() float64 { return float64(a.faces.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "trackmatch_attribute_index_docs", Help: "Records in the Bleve attribute index.",
		}, func() float64 {
			n, err := a.attrs.Count()
			if err != nil {
				return -1
			}
			return float64(n)
		}),
	)
	stats := func() face.PipelineStats { return a.photos.Stats() }
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_face_worker_restarts_total", Help: "Face worker processes replaced after dying, failing in dlib or OpenCV, or running past their time on a photo.",
		}, func() float64 { return float64(stats().WorkerRestarts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_face_cpu_seconds_total", Help: "CPU the face workers spent analysing photos (divide by trackmatch_photos_analyzed_total for the mean per photo).",
		}, func() float64 { return stats().CPUSeconds }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_photos_over_cpu_budget_total", Help: "Photos whose detection cascade stopped at the CPU budget.",
		}, func() float64 { return float64(stats().OverBudget) }),
	)
	runs := prometheus.NewDesc("trackmatch_face_detector_runs_total", "Detector runs, by detection step.", []string{"step"}, nil)
	reg.MustRegister(collectorFunc{desc: runs, collect: func(ch chan<- prometheus.Metric) {
		for step, n := range stats().DetectorRuns {
			ch <- prometheus.MustNewConstMetric(runs, prometheus.CounterValue, float64(n), step)
		}
	}})
	skipped := prometheus.NewDesc("trackmatch_face_detector_skipped_total", "Detection steps skipped because the photo's copy for them was under the detector's minimum size.", []string{"step"}, nil)
	reg.MustRegister(collectorFunc{desc: skipped, collect: func(ch chan<- prometheus.Metric) {
		for step, n := range stats().Skipped {
			ch <- prometheus.MustNewConstMetric(skipped, prometheus.CounterValue, float64(n), step)
		}
	}})
	byStep := prometheus.NewDesc("trackmatch_photos_face_found_total", "Photos whose faces were found, by the detection step that found them (every step after the first is a rescue).", []string{"step"}, nil)
	reg.MustRegister(collectorFunc{desc: byStep, collect: func(ch chan<- prometheus.Metric) {
		for step, n := range a.photos.Stats().FoundBy {
			ch <- prometheus.MustNewConstMetric(byStep, prometheus.CounterValue, float64(n), step)
		}
	}})
}

// collectorFunc is a prometheus.Collector for metrics read on each scrape.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
