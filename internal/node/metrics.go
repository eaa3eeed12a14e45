package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agora-ledger/agora/internal/ledger"
)

// BlockMetrics are the Prometheus metrics every driver keeps of its
// blocks and admissions: the embedded node (Node) and a network node
// (package cometbft) register the same names, so that one dashboard
// serves both.
type BlockMetrics struct {
	TxsCommitted *prometheus.CounterVec
	TxsRejected  *prometheus.CounterVec
	Blocks       prometheus.Counter
	Height       prometheus.Gauge
	BlockTxs     prometheus.Histogram
	CommitTime   prometheus.Histogram
	ApplyTime    prometheus.Histogram
}

// NewBlockMetrics returns the block metrics, registered with reg if it is
// not nil.
func NewBlockMetrics(reg prometheus.Registerer) BlockMetrics {
	m := BlockMetrics{
		TxsCommitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_txs_committed_total", Help: "Transactions committed in blocks, by result code.",
		}, []string{"code"}),
		TxsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_txs_rejected_total", Help: "Transactions refused at admission or dropped from the mempool, by code.",
		}, []string{"code"}),
		Blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_blocks_total", Help: "Blocks committed since the node started.",
		}),
		Height: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_height", Help: "Height of the last committed block.",
		}),
		BlockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_txs", Help: "Transactions per block.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		CommitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_commit_seconds", Help: "Time to write a block durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		ApplyTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_apply_seconds", Help: "Time to execute a block's transactions.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.TxsCommitted, m.TxsRejected, m.Blocks, m.Height, m.BlockTxs, m.CommitTime, m.ApplyTime)
	}
	return m
}

// Committed records a block written durably in took: its height, its
// transactions and their result codes.
func (m BlockMetrics) Committed(out *ledger.Outcome, took time.Duration) {
	m.CommitTime.Observe(took.Seconds())
	m.Blocks.Inc()
	m.Height.Set(float64(out.Header.Height))
	if len(out.Txs) > 0 {
		m.BlockTxs.Observe(float64(len(out.Txs)))
	}
	for _, r := range out.Results {
		m.TxsCommitted.WithLabelValues(r.Code).Inc()
	}
}

// metrics are the embedded node's Prometheus metrics, all named agora_*.
type metrics struct {
	BlockMetrics
	mempool prometheus.Gauge

	witnessRequests *prometheus.CounterVec
	witnessed       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		BlockMetrics: NewBlockMetrics(reg),
		mempool: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_mempool_txs", Help: "Transactions waiting for a block.",
		}),
		witnessRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_witness_requests_total",
			Help: "Checkpoints sent to witnesses, by witness and result: ok (cosigned), refused (the witness found the log inconsistent), error.",
		}, []string{"witness", "result"}),
		witnessed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_witnessed_height", Help: "Height of the newest checkpoint every configured witness has cosigned.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.mempool, m.witnessRequests, m.witnessed)
	}
	return m
}
