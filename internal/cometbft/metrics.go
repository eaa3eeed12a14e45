package cometbft

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/agora-ledger/agora/internal/node"
)

// metrics are a network node's Prometheus metrics: the embedded node's
// block metrics (node.BlockMetrics, the same names, so that one dashboard
// serves both) and the network's own.
type metrics struct {
	node.BlockMetrics
	signed            prometheus.Gauge
	rejectedProposals prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		BlockMetrics: node.NewBlockMetrics(reg),
		signed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agora_network_signed_height", Help: "Height of the newest checkpoint signed by more than two thirds of the validators' power.",
		}),
		rejectedProposals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agora_network_rejected_proposals_total", Help: "Proposed blocks this node refused (ProcessProposal).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.signed, m.rejectedProposals)
	}
	return m
}
