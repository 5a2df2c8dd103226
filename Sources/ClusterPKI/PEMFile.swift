#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftASN1
import X509

/// Reads and writes PEM files; writes never overwrite (except the explicit `replacing` ones, which swap a complete
/// new file in by rename) and private keys are created with mode 0600.
public enum PEMFile {
    /// Keys and certificates are small; anything bigger is not what we wrote.
    public static let maximumFileBytes = 1 << 20

    public static func writeCertificate(_ certificate: Certificate, to path: String) throws(PKIError) {
        try write(pem(certificate.serializeAsPEM, what: "certificate"), to: path, mode: 0o644)
    }

    public static func writePrivateKey(_ key: Certificate.PrivateKey, to path: String) throws(PKIError) {
        try write(pem(key.serializeAsPEM, what: "private key"), to: path, mode: 0o600)
    }

    public static func readCertificate(at path: String) throws(PKIError) -> Certificate {
        let text = try read(path)
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw .invalidPEM(what: path, reason: String(describing: error))
        }
    }

    /// Every certificate of a PEM file, in file order: a trust bundle holds one per CA. At least one.
    public static func readCertificates(at path: String) throws(PKIError) -> [Certificate] {
        let text = try read(path)
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw .invalidPEM(what: path, reason: String(describing: error))
        }
        guard !documents.isEmpty else { throw .invalidPEM(what: path, reason: "it holds no certificate") }
        var certificates: [Certificate] = []
        for (position, document) in documents.enumerated() {
            do {
                certificates.append(try Certificate(pemDocument: document))
            } catch {
                throw .invalidPEM(what: "\(path) (certificate \(position + 1) of \(documents.count))", reason: String(describing: error))
            }
        }
        return certificates
    }

    /// Writes `certificates` as one PEM file in place of `path` (complete or not at all).
    public static func writeCertificates(_ certificates: [Certificate], replacing path: String) throws(PKIError) {
        var text = ""
        for certificate in certificates { text += try pem(certificate.serializeAsPEM, what: "certificate") + "\n" }
        try replace(text, at: path, mode: 0o644)
    }

    /// Replaces the certificate at `path` (complete or not at all).
    public static func writeCertificate(_ certificate: Certificate, replacing path: String) throws(PKIError) {
        try replace(pem(certificate.serializeAsPEM, what: "certificate"), at: path, mode: 0o644)
    }

    /// Replaces the private key at `path` (complete or not at all, mode 0600 from the start).
    public static func writePrivateKey(_ key: Certificate.PrivateKey, replacing path: String) throws(PKIError) {
        try replace(pem(key.serializeAsPEM, what: "private key"), at: path, mode: 0o600)
    }

    public static func readPrivateKey(at path: String) throws(PKIError) -> Certificate.PrivateKey {
        let text = try read(path)
        do {
            return try Certificate.PrivateKey(pemEncoded: text)
        } catch {
            // Never echo the key's text: the reason comes from the parser only.
            throw .invalidPEM(what: path, reason: String(describing: error))
        }
    }

    /// PEM text of a certificate, for handing to TLS libraries.
    public static func pemString(_ certificate: Certificate) throws(PKIError) -> String {
        try pem(certificate.serializeAsPEM, what: "certificate")
    }

    /// PEM text of a private key, for handing to TLS libraries; never log it.
    public static func pemString(_ key: Certificate.PrivateKey) throws(PKIError) -> String {
        try pem(key.serializeAsPEM, what: "private key")
    }

    private static func pem(_ serialize: () throws -> PEMDocument, what: String) throws(PKIError) -> String {
        do {
            return try serialize().pemString
        } catch {
            throw .invalidPEM(what: what, reason: String(describing: error))
        }
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws(PKIError) {
        // O_EXCL: refuse to replace an existing cluster's files; the mode applies at creation, so a key
        // is never readable by others, not even briefly.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { throw .fileExists(path: path) }
            throw .fileWriteFailed(path: path, reason: String(cString: strerror(code)))
        }
        var bytes = Array(text.utf8)
        var written = 0
        var failure: Int32 = 0
        while written < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                Glibc_write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            written += count
        }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        bytes.removeAll()
        if failure != 0 {
            unlink(path)
            throw .fileWriteFailed(path: path, reason: String(cString: strerror(failure)))
        }
    }

    /// Writes a sibling file and renames it over `path`, so a reader (a node reloading on SIGHUP) sees the old
    /// file or the new one, never half of one.
    private static func replace(_ text: String, at path: String, mode: mode_t) throws(PKIError) {
        let staging = path + ".new"
        unlink(staging)
        try write(text, to: staging, mode: mode)
        guard rename(staging, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(staging)
            throw .fileWriteFailed(path: path, reason: reason)
        }
    }

    private static func read(_ path: String) throws(PKIError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .fileReadFailed(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc_read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileReadFailed(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= maximumFileBytes else {
                throw .fileReadFailed(path: path, reason: "larger than \(maximumFileBytes) bytes")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// `write`/`read` are shadowed by this type's own methods.
@inline(__always) private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

@inline(__always) private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
