package node

import "github.com/prometheus/client_golang/prometheus"

// metrics are the node's Prometheus metrics, all named agora_*.
type metrics struct {
	committed  *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	blocks     prometheus.Counter
	height     prometheus.Gauge
	mempool    prometheus.Gauge
	blockTxs   prometheus.Histogram
	commitTime prometheus.Histogram
	applyTime  prometheus.Histogram

	witnessRequests *prometheus.CounterVec
	witnessed       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		committed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_txs_committed_total", Help: "Transactions committed in blocks, by result code.",
		}, []string{"code"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agora_txs_rejected_total", Help: "Transactions refused at admission or dropped from the mempool, by code.",
		}, []string{"code"}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_blocks_total", Help: "Blocks committed since the node started.",
		}),
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_height", Help: "Height of the last committed block.",
		}),
		mempool: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_mempool_txs", Help: "Transactions waiting for a block.",
		}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_txs", Help: "Transactions per block.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_commit_seconds", Help: "Time to write a block durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		applyTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "agora_block_apply_seconds", Help: "Time to execute a block's transactions.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
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
		reg.MustRegister(m.committed, m.rejected, m.blocks, m.height, m.mempool, m.blockTxs, m.commitTime, m.applyTime,
			m.witnessRequests, m.witnessed)
	}
	return m
}
