import Testing
import VigilNode

@Suite struct APITokenTests {
    @Test("the stored form of a token is its SHA-256 in lower-case hex (FIPS 180-2 vectors)")
    func sha256HexVectors() {
        #expect(APIToken.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIToken.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let token = APIToken.generate()
        #expect(token.hasPrefix(APIToken.prefix) && token.count == APIToken.prefix.count + 43)
        #expect(APIToken.sha256Hex(token) != APIToken.sha256Hex(APIToken.generate()))
    }
}
