import Testing
@testable import Verify

@Suite struct VerifyModuleTests {
    @Test func moduleLinks() { #expect(VerifyModule.name == "Verify") }
}
