import NIOCore

/// Where the encoder writes big-endian fields: an array for tests and tools, a `ByteBuffer` for sockets.
protocol WireSink {
    var writtenBytes: Int { get }
    mutating func appendU8(_ value: UInt8)
    mutating func appendU32(_ value: UInt32)
    mutating func appendU64(_ value: UInt64)
    mutating func appendBytes(_ bytes: [UInt8])
    /// Overwrites four already-written bytes at `position` (counted from where this frame began).
    mutating func patchU32(_ value: UInt32, at position: Int)
}

extension Array: WireSink where Element == UInt8 {
    var writtenBytes: Int { count }
    mutating func appendU8(_ value: UInt8) { append(value) }
    mutating func appendU32(_ value: UInt32) { Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) } }
    mutating func appendU64(_ value: UInt64) { Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) } }
    mutating func appendBytes(_ bytes: [UInt8]) { append(contentsOf: bytes) }
    mutating func patchU32(_ value: UInt32, at position: Int) {
        for byte in 0..<4 { self[position + byte] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * byte)) }
    }
}

/// Writes one frame at the end of a `ByteBuffer`, remembering where it began for the length patch.
struct ByteBufferSink: WireSink {
    var buffer: ByteBuffer
    let startIndex: Int

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
        self.startIndex = buffer.writerIndex
    }

    var writtenBytes: Int { buffer.writerIndex - startIndex }
    mutating func appendU8(_ value: UInt8) { buffer.writeInteger(value) }
    mutating func appendU32(_ value: UInt32) { buffer.writeInteger(value) }
    mutating func appendU64(_ value: UInt64) { buffer.writeInteger(value) }
    mutating func appendBytes(_ bytes: [UInt8]) { buffer.writeBytes(bytes) }
    mutating func patchU32(_ value: UInt32, at position: Int) { buffer.setInteger(value, at: startIndex + position) }
}
