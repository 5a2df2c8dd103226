import Testing
@testable import VigilNode

@Suite struct APITokenTests {
    @Test("the stored form of a token is its SHA-256 in lower-case hex (FIPS 180-2 vectors)")
    func sha256HexVectors() {
        #expect(APIToken.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIToken.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let token = APIToken.generate()
        #expect(token.hasPrefix(APIToken.prefix) && token.count == APIToken.prefix.count + 43)
        #expect(APIToken.sha256Hex(token) != APIToken.sha256Hex(APIToken.generate()))
    }

    @Test("a presented token's digest equals the digest read from its stored hex, and only that one")
    func digestOfTokenAndOfHexAgree() {
        #expect(TokenDigest(token: "abc") == TokenDigest(hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(TokenDigest(token: "abc") == TokenDigest(hex: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"))
        for _ in 0..<20 {
            let token = APIToken.generate()
            let digest = TokenDigest(token: token)
            #expect(TokenDigest(hex: APIToken.sha256Hex(token)) == digest)
            #expect(digest.constantTimeEquals(TokenDigest(token: token)))
            #expect(!digest.constantTimeEquals(TokenDigest(token: token + "x")))
            #expect(Set([digest, TokenDigest(token: token)]).count == 1)
        }
        let valid = APIToken.sha256Hex("abc")
        #expect(TokenDigest(hex: String(valid.dropLast())) == nil)
        #expect(TokenDigest(hex: valid + "0") == nil)
        #expect(TokenDigest(hex: "g" + valid.dropFirst()) == nil)
        #expect(TokenDigest(hex: "") == nil)
    }

    @Test("a request finds a token by its digest once its creation is applied, and not after its revocation or a restore without it")
    func theDigestIndexFollowsTheRegistry() throws {
        let view = StateView()
        let token = APIToken.generate()
        let digest = TokenDigest(token: token)
        #expect(view.token(for: digest) == nil)
        let create = ReplicatedCommand.tokens(.create(name: "ci", role: .responder, sha256: APIToken.sha256Hex(token), createdAt: 1, personID: "p1"))
        _ = try view.mutate { $0.apply(create.encoded()) }
        #expect(view.token(for: digest)?.name == "ci")
        #expect(view.token(for: digest)?.personID == "p1")
        #expect(view.token(for: TokenDigest(token: APIToken.generate())) == nil)
        let withToken = view.copy()
        _ = try view.mutate { $0.apply(ReplicatedCommand.tokens(.revoke(name: "ci")).encoded()) }
        #expect(view.token(for: digest) == nil)
        // A snapshot installed as a whole replaces the registry, and the index with it.
        _ = try view.mutate { $0 = withToken }
        #expect(view.token(for: digest)?.role == .responder)
        _ = try view.mutate { $0 = NodeStateMachine() }
        #expect(view.token(for: digest) == nil)
    }
}
