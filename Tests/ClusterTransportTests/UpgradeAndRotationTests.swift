import ClusterPKI
import ClusterTransport
import NIOCore
import RaftCore
import Testing
import X509

/// The hello that lets releases refuse or tolerate each other, and credentials replaced on a running transport.
@Suite("Peer versions and credential reload")
struct UpgradeAndRotationTests {
    static func version(_ text: String) -> SoftwareVersion { SoftwareVersion(parsing: text)! }

    @Test("versions parse strictly; same major and adjacent minors interoperate, nothing else")
    func versionRules() {
        for bad in ["", "1", "1.2", "1.2.3.4", "1.2.x", "-1.2.3", "1..3", "70000.0.0", " 1.2.3", "١.2.3"] {
            #expect(SoftwareVersion(parsing: bad) == nil, "\(bad) must not parse")
        }
        #expect(Self.version("0.6.0") < Self.version("0.6.1"))
        #expect(Self.version("0.6.0").description == "0.6.0")
        let local = Self.version("1.4.2")
        for peer in ["1.4.0", "1.4.9", "1.3.0", "1.5.7"] { #expect(local.refusal(of: Self.version(peer)) == nil, "\(peer)") }
        for peer in ["1.2.0", "1.6.0", "2.4.2", "0.4.2"] {
            let reason = local.refusal(of: Self.version(peer))
            #expect(reason?.contains(peer) == true && reason?.contains("1.4.2") == true, "\(peer): \(reason ?? "accepted")")
        }
    }

    @Test("forwarded proposals round-trip; an empty batch, too many proposals, a truncated command and trailing bytes are refused")
    func forwardedProposals() throws {
        let codec = WireCodec()
        let frame = ForwardedProposals(from: 2, to: 1, term: 7, proposals: [
            .init(id: 41, command: Array("{\"op\":\"put\"}".utf8)), .init(id: .max, command: [0x44, 0, 0xFF]),
        ])
        let bytes = try codec.encode(frame)
        #expect(try codec.decodeInbound(frame: bytes) == .forwarded(frame))
        #expect(throws: WireError.self) { try codec.encode(ForwardedProposals(from: 2, to: 1, term: 7, proposals: [])) }
        let tooMany = ForwardedProposals(from: 2, to: 1, term: 7,
                                         proposals: Array(repeating: .init(id: 1, command: [1]), count: ForwardedProposals.maximumProposals + 1))
        #expect(throws: WireError.self) { try codec.encode(tooMany) }
        var truncated = bytes
        truncated.removeLast()
        truncated[3] -= 1
        #expect(throws: WireError.self) { try codec.decodeInbound(frame: truncated) }
        var trailing = bytes + [0]
        trailing[3] += 1
        #expect(throws: WireError.trailingBytes(count: 1, offset: bytes.count)) { try codec.decodeInbound(frame: trailing) }
    }

    @Test("a hello round-trips; a frame kind this release does not know is reported, not an error; another wire format is")
    func helloAndUnknownKinds() throws {
        let codec = WireCodec()
        let hello = PeerHello(from: 2, to: 1, version: Self.version("3.14.159"))
        #expect(try codec.decodeInbound(frame: codec.encode(hello)) == .hello(hello))
        // A future kind, with a body this release cannot interpret.
        let future: [UInt8] = [0, 0, 0, 6, WireCodec.formatVersion, 99, 1, 2, 3, 4]
        #expect(try codec.decodeInbound(frame: future) == .unknownKind(99))
        #expect(throws: WireError.unknownVersion(9)) { try codec.decodeInbound(frame: [0, 0, 0, 6, 9, 99, 1, 2, 3, 4]) }
        var truncated = codec.encode(hello)
        truncated.removeLast()
        truncated[3] -= 1
        #expect(throws: WireError.truncated(field: "version.patch", offset: truncated.count)) { try codec.decodeInbound(frame: truncated) }
    }

    @Test("an adjacent minor release interoperates and is shown; another major is refused and delivers nothing")
    func peersOfOtherReleases() async throws {
        let ca = try ClusterCA.create(clusterName: "test")
        func start(_ id: NodeID, _ version: String) async throws -> TestNode {
            try await startNode(id, credentials: try ca.issueNodeCredentials(nodeID: id, ipAddresses: ["127.0.0.1"]),
                                trusting: ca.certificate) { $0.softwareVersion = Self.version(version) }
        }
        let one = try await start(1, "1.4.0")
        let two = try await start(2, "1.5.3")
        let three = try await start(3, "2.0.0")
        defer { Task { for node in [one, two, three] { await node.transport.shutdown() } } }
        one.transport.setPeers([2: two.address, 3: three.address])
        two.transport.setPeers([1: one.address])
        three.transport.setPeers([1: one.address])

        var sequence: UInt64 = 0
        try await eventually("node1 and node2 to hear each other") {
            sequence += 1
            one.transport.send(marker(from: 1, to: 2, sequence))
            two.transport.send(marker(from: 2, to: 1, sequence))
            three.transport.send(marker(from: 3, to: 1, sequence))
            return !one.mailbox.messages.isEmpty && !two.mailbox.messages.isEmpty
        }
        try await eventually("both ends to refuse the other major version") {
            let refusedByOne = await one.transport.metrics().peersRefusedVersion
            let refusedByThree = await three.transport.metrics().peersRefusedVersion
            return refusedByOne >= 1 && refusedByThree >= 1
        }
        #expect(await one.transport.metrics().peers[2]?.version == Self.version("1.5.3"))
        #expect(await two.transport.metrics().peers[1]?.version == Self.version("1.4.0"))
        #expect(await one.transport.metrics().peers[3]?.version == nil)
        #expect(one.mailbox.messages.allSatisfy { $0.from == 2 }, "nothing from the node of another major version")
        #expect(three.mailbox.messages.isEmpty)
    }

    @Test("frames of an unknown kind are skipped and counted; the connection goes on delivering")
    func unknownKindSkipped() async throws {
        try await withCluster([1, 2]) { ca, nodes in
            let client = try await RawClient.tls(
                port: nodes[1]!.port, credentials: try ca.issueNodeCredentials(nodeID: 2, ipAddresses: ["127.0.0.1"]),
                trustedCA: ca.certificate, serverName: "node1")
            defer { client.close(promise: nil) }
            let codec = WireCodec()
            try await RawClient.write(codec.encode(PeerHello(from: 2, to: 1, version: SoftwareVersion(major: 0, minor: 1, patch: 0)))
                                      + [0, 0, 0, 4, WireCodec.formatVersion, 77, 0xAB, 0xCD]
                                      + (try codec.encode(marker(from: 2, to: 1, 4242))), to: client)
            try await eventually("the message after the unknown frame") { nodes[1]!.mailbox.messages.contains(marker(from: 2, to: 1, 4242)) }
            let metrics = await nodes[1]!.transport.metrics()
            #expect(metrics.framesSkippedUnknownKind == 1)
            // Delivery of the message after it shows the connection survived the unknown frame (node2's own
            // transport may replace this connection later, so its state now proves nothing).
            #expect(metrics.malformedFrames == 0)
        }
    }

    @Test("credentials rotate to a new CA on running transports: bundle, new certificates, old CA dropped; messages flow throughout")
    func rotationToNewCA() async throws {
        let oldCA = try ClusterCA.create(clusterName: "old")
        let newCA = try ClusterCA.create(clusterName: "new")
        try await withCluster([1, 2], ca: oldCA) { _, nodes in
            var sequence: UInt64 = 100
            func flows() async throws {
                let target = sequence + 1
                try await eventually("messages both ways after the reload", timeoutSeconds: 10) {
                    sequence += 1
                    nodes[1]!.transport.send(marker(from: 1, to: 2, sequence))
                    nodes[2]!.transport.send(marker(from: 2, to: 1, sequence))
                    return nodes[1]!.mailbox.messages.contains { $0.payload.readSeq >= target }
                        && nodes[2]!.mailbox.messages.contains { $0.payload.readSeq >= target }
                }
            }
            func reloadAll(issuer: ClusterCA, trusting: [Certificate]) async throws {
                for id in [NodeID(1), 2] {
                    let credentials = try issuer.issueNodeCredentials(nodeID: id, ipAddresses: ["127.0.0.1"])
                    try await nodes[id]!.transport.reload(identity: TransportIdentity(credentials: credentials, trustedCAs: trusting))
                }
            }
            try await flows()
            try await reloadAll(issuer: oldCA, trusting: [oldCA.certificate, newCA.certificate])
            try await flows()
            try await reloadAll(issuer: newCA, trusting: [oldCA.certificate, newCA.certificate])
            try await flows()
            try await reloadAll(issuer: newCA, trusting: [newCA.certificate])
            try await flows()

            // The old CA is no longer trusted: a certificate it signed is refused on a new connection.
            let refusedBefore = await nodes[1]!.transport.metrics().inboundConnectionsRefused
            let stale = try await RawClient.tls(
                port: nodes[1]!.port, credentials: try oldCA.issueNodeCredentials(nodeID: 2, ipAddresses: ["127.0.0.1"]),
                trustedCA: newCA.certificate, serverName: "node1")
            try? await RawClient.write(try WireCodec().encode(marker(from: 2, to: 1, 9_999)), to: stale)
            try await eventually("the old-CA client to be refused") {
                await nodes[1]!.transport.metrics().inboundConnectionsRefused > refusedBefore
            }
            #expect(!nodes[1]!.mailbox.messages.contains(marker(from: 2, to: 1, 9_999)))

            // Credentials of another node are refused and change nothing.
            let wrong = try newCA.issueNodeCredentials(nodeID: 3, ipAddresses: ["127.0.0.1"])
            await #expect(throws: TransportError.self) {
                try await nodes[1]!.transport.reload(identity: TransportIdentity(credentials: wrong, trustedCAs: [newCA.certificate]))
            }
            try await flows()
        }
    }
}

extension Message.Payload {
    /// The sequence number `marker` carries.
    var readSeq: UInt64 {
        if case let .heartbeat(_, readSeq) = self { return readSeq }
        return 0
    }
}
