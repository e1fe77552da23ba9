import TestKit
import Testing
@testable import Core

@Test(.tags(.unit)) func exitStatusFollowsCode() {
    #expect(ReproError(.invalidInput, "x").code.exitStatus == 2)
    #expect(ReproError(.notReproducible, "x").code.exitStatus == 3)
    #expect(ReproError(.verificationFailed, "x").code.exitStatus == 4)
}

@Test(.tags(.unit)) func canonicalJSONSortsKeys() throws {
    struct V: Encodable { let b = 1; let a = "x/y" }
    #expect(try CanonicalJSON.string(V()) == #"{"a":"x/y","b":1}"#)
}
