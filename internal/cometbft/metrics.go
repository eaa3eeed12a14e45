package cometbft

import "github.com/prometheus/client_golang/prometheus"

// metrics are a network node's Prometheus metrics, named as the embedded
// node's where they mean the same (agora_height, agora_txs_*), so that one
// dashboard serves both.
type metrics struct {
	committed         *prometheus.CounterVec
	rejected          *prometheus.CounterVec
	height            prometheus.Gauge
	blockTxs          prometheus.Histogram
	commit            prometheus.Histogram
	signed            prometheus.Gauge
	rejectedProposals prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		committed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_txs_committed_total", Help: "Transactions committed in blocks, by result code.",
		}, []string{"code"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_txs_rejected_total", Help: "Transactions refused at admission or dropped from the mempool, by code.",
		}, []string{"code"}),
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_height", Help: "Height of the last committed block.",
		}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_txs", Help: "Transactions per block.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_commit_seconds", Help: "Time to write a block durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		signed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_network_signed_height", Help: "Height of the newest checkpoint signed by more than two thirds of the validators' power.",
		}),
		rejectedProposals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_network_rejected_proposals_total", Help: "Proposed blocks this node refused (ProcessProposal).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.committed, m.rejected, m.height, m.blockTxs, m.commit, m.signed, m.rejectedProposals)
	}
	return m
}
