import Foundation
import ClusterTransport
import RaftCore

/// Renders `/metrics` in the Prometheus text format (version 0.0.4), by hand: a few gauges and counters do
/// not justify a metrics backend and its process-wide bootstrap.
public enum MetricsExposition {
    public static func render(status: NodeStatus, transport: TransportMetrics, settingsRevision: UInt64, settingsCount: Int) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        func one(_ name: String, _ type: String, _ help: String, _ value: some Numeric) {
            metric(name, type, help, [("", "\(value)")])
        }
        let counters = status.counters
        one("vigil_raft_term", "gauge", "Current Raft term.", status.term)
        one("vigil_raft_leader_id", "gauge", "Node id of the known leader (0 when none).", status.leader)
        one("vigil_raft_is_leader", "gauge", "1 when this node is the leader.", status.role == .leader ? 1 : 0)
        one("vigil_raft_commit_index", "gauge", "Highest log index known committed.", status.commitIndex)
        one("vigil_raft_applied_index", "gauge", "Highest log index applied to the state machine.", status.appliedIndex)
        one("vigil_raft_last_index", "gauge", "Last log index.", status.lastIndex)
        one("vigil_raft_snapshot_index", "gauge", "Index of the latest snapshot.", status.snapshotIndex)
        one("vigil_raft_ready", "gauge", "1 when a leader is known and the commit index is applied.", status.isReady ? 1 : 0)
        metric("vigil_proposals_total", "counter", "Client proposals by result.", [
            ("{result=\"applied\"}", "\(counters.proposalsApplied)"), ("{result=\"failed\"}", "\(counters.proposalsFailed)"),
        ])
        one("vigil_proposal_batches_total", "counter", "Proposal batches handed to Raft (one per loop round with writes).", counters.proposalBatches)
        metric("vigil_forwarded_writes_total", "counter",
               "Client writes forwarded over the peer connection: sent and resent by this follower; proposed, dropped or ignored as duplicates by this leader.", [
            ("{event=\"sent\"}", "\(counters.forwardedSent)"), ("{event=\"proposed\"}", "\(counters.forwardedProposed)"),
            ("{event=\"dropped\"}", "\(counters.forwardedDropped)"), ("{event=\"resent\"}", "\(counters.forwardedResent)"),
            ("{event=\"duplicate\"}", "\(counters.forwardedDuplicates)"),
        ])
        metric("vigil_reads_total", "counter", "Linearizable read barriers by result.", [
            ("{result=\"served\"}", "\(counters.readsServed)"), ("{result=\"failed\"}", "\(counters.readsFailed)"),
        ])
        one("vigil_raft_elections_total", "counter", "Campaigns started by this node.", counters.elections)
        one("vigil_raft_leader_changes_total", "counter", "Changes of the known leader.", counters.leaderChanges)
        one("vigil_raft_snapshots_taken_total", "counter", "Log compactions.", counters.snapshotsTaken)
        one("vigil_raft_snapshots_installed_total", "counter", "Snapshots received from a leader and installed.", counters.snapshotsInstalled)

        one("vigil_raft_snapshots_failed_total", "counter", "Snapshot files that could not be written (the log grows until one succeeds).", counters.snapshotsFailed)
        let progress = status.progress.sorted { $0.key < $1.key }.filter { $0.key != status.nodeID }
        metric("vigil_raft_follower_lag_entries", "gauge", "On the leader: last index minus the follower's match index.",
               progress.map { ("{peer=\"\($0.key)\"}", "\(status.lastIndex >= $0.value.match ? status.lastIndex - $0.value.match : 0)") })
        let outgoing = status.snapshotsOut.sorted { $0.key < $1.key }
        metric("vigil_snapshot_send_in_progress", "gauge", "On the leader: 1 while a snapshot is streamed to the follower.",
               outgoing.map { ("{peer=\"\($0.key)\"}", $0.value.phase == .sending ? "1" : "0") })
        metric("vigil_snapshot_send_bytes", "gauge", "Bytes of the current or last snapshot the follower confirmed.",
               outgoing.map { ("{peer=\"\($0.key)\"}", "\($0.value.doneBytes)") })
        metric("vigil_snapshot_send_size_bytes", "gauge", "Size of the current or last snapshot streamed to the follower.",
               outgoing.map { ("{peer=\"\($0.key)\"}", "\($0.value.totalBytes)") })
        metric("vigil_snapshot_send_attempts_total", "counter", "Snapshot transfers started to the follower.",
               outgoing.map { ("{peer=\"\($0.key)\"}", "\($0.value.attempts)") })
        metric("vigil_snapshot_send_failures_total", "counter", "Snapshot transfers to the follower that failed.",
               outgoing.map { ("{peer=\"\($0.key)\"}", "\($0.value.failures)") })
        let incoming = status.snapshotsIn.sorted { $0.key < $1.key }
        metric("vigil_snapshot_receive_bytes", "gauge", "Bytes of the current or last snapshot received from the leader.",
               incoming.map { ("{peer=\"\($0.key)\"}", "\($0.value.doneBytes)") })
        metric("vigil_snapshot_receive_failures_total", "counter", "Snapshot transfers from the leader that failed here.",
               incoming.map { ("{peer=\"\($0.key)\"}", "\($0.value.failures)") })

        out += "# HELP vigil_raft_loop_round_seconds One round of the Raft loop (ticks, messages, persist, apply); long rounds delay heartbeats.\n"
        out += "# TYPE vigil_raft_loop_round_seconds histogram\n"
        out += histogramSamples("vigil_raft_loop_round_seconds", counters.loopRoundLatency)
        one("vigil_raft_loop_round_longest_seconds", "gauge", "The longest round of the Raft loop since the node started.",
            Double(counters.loopRoundLongest / .microseconds(1)) / 1_000_000)
        out += "# HELP vigil_raft_snapshot_build_seconds From copying the state to the compacted log (off the Raft loop).\n"
        out += "# TYPE vigil_raft_snapshot_build_seconds histogram\n"
        out += histogramSamples("vigil_raft_snapshot_build_seconds", counters.snapshotBuildLatency)

        out += "# HELP vigil_raft_append_seconds Duration of one durable Raft log write (fsync included).\n"
        out += "# TYPE vigil_raft_append_seconds histogram\n"
        out += histogramSamples("vigil_raft_append_seconds", counters.persistLatency)

        let peers = transport.peers.sorted { $0.key < $1.key }
        metric("vigil_peer_connected", "gauge", "1 when the outbound connection to the peer is up.",
               peers.map { ("{peer=\"\($0.key)\"}", $0.value.reachability == .connected ? "1" : "0") })
        metric("vigil_peer_frames_sent_total", "counter", "Frames written to the peer.", peers.map { ("{peer=\"\($0.key)\"}", "\($0.value.framesSent)") })
        metric("vigil_peer_frames_received_total", "counter", "Frames received from the peer.",
               peers.map { ("{peer=\"\($0.key)\"}", "\($0.value.framesReceived)") })
        metric("vigil_peer_frames_dropped_total", "counter", "Frames dropped because the send queue was full.",
               peers.map { ("{peer=\"\($0.key)\"}", "\($0.value.framesDroppedQueueFull)") })
        one("vigil_transport_inbound_refused_total", "counter", "Inbound peer connections refused (TLS or identity).", transport.inboundConnectionsRefused)
        one("vigil_transport_malformed_frames_total", "counter", "Frames that failed to decode.", transport.malformedFrames)
        one("vigil_transport_peers_refused_version_total", "counter",
            "Inbound peer connections closed because the peer's release cannot interoperate with this one.", transport.peersRefusedVersion)
        one("vigil_transport_frames_skipped_unknown_kind_total", "counter",
            "Frames of a kind this release does not know (from a newer minor release), skipped.", transport.framesSkippedUnknownKind)
        one("vigil_settings_revision", "gauge", "Global revision of the settings store.", settingsRevision)
        one("vigil_settings_keys", "gauge", "Number of settings stored.", settingsCount)
        return out
    }

    /// The node certificate's expiry, for an alert well before it (the node also logs a warning 30 days ahead).
    static func renderCertificate(expiresAt: Date?) -> String {
        guard let expiresAt else { return "" }
        return "# HELP vigil_tls_certificate_expiry_timestamp_seconds When this node's certificate expires (Unix time).\n"
            + "# TYPE vigil_tls_certificate_expiry_timestamp_seconds gauge\n"
            + "vigil_tls_certificate_expiry_timestamp_seconds \(Int64(expiresAt.timeIntervalSince1970))\n"
    }

    /// The paging scheduler's lateness (actual − due) per kind of action, and the outbox size.
    static func renderPaging(lateness: [String: LatencyHistogram], outboxPages: Int) -> String {
        var out = "# HELP vigil_paging_lateness_seconds How late the leader's scheduler acted: actual minus due time.\n"
        out += "# TYPE vigil_paging_lateness_seconds histogram\n"
        for kind in NodePagingHost.latenessKinds {
            out += histogramSamples("vigil_paging_lateness_seconds", lateness[kind] ?? LatencyHistogram(), label: "kind=\"\(kind)\"")
        }
        out += "# HELP vigil_paging_outbox_pages Pages planned or intended and waiting for their outcome.\n"
        out += "# TYPE vigil_paging_outbox_pages gauge\nvigil_paging_outbox_pages \(outboxPages)\n"
        return out
    }

    /// The bucket, sum and count lines of one histogram; `label` (e.g. `kind="page"`) goes before `le`.
    static func histogramSamples(_ name: String, _ histogram: LatencyHistogram, label: String? = nil) -> String {
        let prefix = label.map { $0 + "," } ?? ""
        let plain = label.map { "{\($0)}" } ?? ""
        var out = ""
        var cumulative: UInt64 = 0
        for (slot, bound) in LatencyHistogram.upperBoundsSeconds.enumerated() {
            cumulative += histogram.bucketCounts[slot]
            out += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(histogram.count)\n"
        out += "\(name)_sum\(plain) \(histogram.sumSeconds)\n"
        out += "\(name)_count\(plain) \(histogram.count)\n"
        return out
    }
}
