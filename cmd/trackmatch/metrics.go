package main

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics exposes the engine's and the indexes' figures on /metrics.
func (a *app) registerMetrics(reg *prometheus.Registry) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_photos_analyzed_total", Help: "Photos run through the face pipeline.",
		}, func() float64 { return float64(a.pipeline.Stats().Analyzed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_photos_no_face_total", Help: "Photos in which no face was found.",
		}, func() float64 { return float64(a.pipeline.Stats().NoFace) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "trackmatch_faces_embedded_total", Help: "Faces found and embedded.",
		}, func() float64 { return float64(a.pipeline.Stats().Faces) }),
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
	byStep := prometheus.NewDesc("trackmatch_photos_face_found_total", "Photos whose faces were found, by the detection step that found them (every step after the first is a rescue).", []string{"step"}, nil)
	reg.MustRegister(collectorFunc{desc: byStep, collect: func(ch chan<- prometheus.Metric) {
		for step, n := range a.pipeline.Stats().FoundBy {
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
