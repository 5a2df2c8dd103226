import NIOCore
import RaftCore

/// Splits the inbound byte stream into frames and decodes each into a Raft `Message` or a snapshot-stream frame.
///
/// The length prefix is checked against the frame limit as soon as its 4 bytes arrive, so an oversized frame
/// closes the connection before its body is buffered. Errors are thrown as `WireError` and reach
/// `errorCaught` of the next handler, which closes this connection only.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = DecodedFrame

    let codec: WireCodec

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        let bodyBytes = Int(length)
        try codec.checkAnnouncedLength(bodyBytes)
        guard buffer.readableBytes >= WireCodec.lengthPrefixBytes + bodyBytes else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: WireCodec.lengthPrefixBytes)
        let body = buffer.readBytes(length: bodyBytes)!
        let payload = try codec.decodeInbound(body)
        context.fireChannelRead(wrapInboundOut(DecodedFrame(payload: payload, frameBytes: WireCodec.lengthPrefixBytes + bodyBytes)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at close is dropped: the sender's Raft retransmits.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
