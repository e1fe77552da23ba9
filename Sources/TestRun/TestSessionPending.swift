import Core

extension TestSession {
    mutating func runCTest(attempt: Int, variation: Variation?, only: [TestCase]?) throws {
        throw ReproError(.unsupported, "ctest adapter lands with i11a")
    }
    mutating func runJUnit() throws {
        throw ReproError(.unsupported, "junit adapter lands with i11a")
    }
}
