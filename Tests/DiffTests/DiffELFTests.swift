import Foundation
import TestKit
import Testing
@testable import Diff

/// ELF files compared section by section, parsed by repro itself.
@Suite(.tags(.unit)) struct DiffELFTests {
    /// Compiles `source` as `prog.c` (same file name on both sides, so the symbol table's
    /// FILE entry is equal) into `dir/out/prog`.
    static func compile(_ source: String, in dir: String, flags: [String] = ["-O1"]) throws {
        try DiffSupport.write(dir + "/src/prog.c", source)
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        try DiffSupport.tool(["gcc"] + flags + ["-o", dir + "/out/prog", "prog.c"], cwd: dir + "/src")
    }

    static func program(message: String, value: Int) -> String {
        """
        #include <stdio.h>
        static const char msg[] = "\(message) %d\\n";
        int value = \(value);
        int main(void) { printf(msg, value); return 0; }

        """
    }

    @Test func oneInitialisedIntegerChangesDataNotText() throws {
        let tmp = try TestKit.tempDir("diff-elf-data")
        defer { DiffSupport.remove(tmp) }
        try Self.compile(Self.program(message: "answer", value: 41), in: tmp + "/a")
        try Self.compile(Self.program(message: "answer", value: 42), in: tmp + "/b")
        let r = try DiffSupport.diff(tmp + "/a/out", tmp + "/b/out")
        let prog = try #require(r.entry("prog"))
        #expect(prog.content == "elf")
        let names = Set(prog.sections?.map(\.name) ?? [])
        #expect(names.contains(".data"))
        // The build id hashes the whole output, so it follows any change.
        #expect(names.contains(".note.gnu.build-id"))
        #expect(!names.contains(".text") && !names.contains(".rodata"))
        #expect(prog.sections?.first { $0.name == ".data" }.map { $0.status == "changed" && $0.aSize == $0.bSize } == true)
    }

    @Test func oneStringConstantChangesRodata() throws {
        let tmp = try TestKit.tempDir("diff-elf-rodata")
        defer { DiffSupport.remove(tmp) }
        try Self.compile(Self.program(message: "answer", value: 41), in: tmp + "/a")
        try Self.compile(Self.program(message: "ANSWER", value: 41), in: tmp + "/b")
        let r = try DiffSupport.diff(tmp + "/a/out", tmp + "/b/out")
        let names = Set(try #require(r.entry("prog")).sections?.map(\.name) ?? [])
        #expect(names == [".rodata", ".note.gnu.build-id"])

        let cli = try DiffSupport.cli([tmp + "/a/out", tmp + "/b/out"])
        #expect(cli.status == 3)
        #expect(cli.out.contains("section .rodata changed"))
    }

    @Test func addedSectionAndDamagedHeadersAreHandled() throws {
        let tmp = try TestKit.tempDir("diff-elf-added")
        defer { DiffSupport.remove(tmp) }
        try Self.compile(Self.program(message: "answer", value: 41), in: tmp + "/a")
        try Self.compile(Self.program(message: "answer", value: 41), in: tmp + "/b", flags: ["-O1", "-g"])
        let r = try DiffSupport.diff(tmp + "/a/out", tmp + "/b/out")
        let sections = try #require(r.entry("prog")?.sections)
        #expect(sections.contains { $0.name == ".debug_info" && $0.status == "added" && $0.aSize == nil })

        // A truncated ELF (section headers cut off) is compared as bytes, not parsed.
        let data = try Data(contentsOf: URL(fileURLWithPath: tmp + "/a/out/prog"))
        #expect(ELFFile(data) != nil)
        #expect(ELFFile(data.prefix(200)) == nil)
        try data.prefix(200).write(to: URL(fileURLWithPath: tmp + "/short"))
        let cut = try DiffSupport.diff(tmp + "/a/out/prog", tmp + "/short")
        #expect(cut.entry("prog")?.content == "binary")
        #expect(cut.entry("prog")?.firstDifference == 200)
    }

    @Test func elf32HeadersParse() throws {
        // A minimal little-endian ELF32 object: file header, a null section, .shstrtab, .data.
        var f = [UInt8](repeating: 0, count: 52)
        f[0...3] = [0x7f, 0x45, 0x4c, 0x46]
        f[4] = 1; f[5] = 1; f[6] = 1
        func put16(_ v: Int, at i: Int) { f[i] = UInt8(v & 0xff); f[i + 1] = UInt8(v >> 8) }
        func put32(_ v: Int, at i: Int, in b: inout [UInt8]) { for k in 0..<4 { b[i + k] = UInt8((v >> (8 * k)) & 0xff) } }
        let strtab: [UInt8] = Array("\0.shstrtab\0.data\0".utf8)
        let data1: [UInt8] = [1, 2, 3, 4]
        let strOff = 52, dataOff = strOff + strtab.count, shOff = dataOff + data1.count
        put16(1, at: 16); put16(3, at: 18)
        put32(shOff, at: 32, in: &f)
        put16(52, at: 40); put16(40, at: 46); put16(3, at: 48); put16(1, at: 50)
        func section(name: Int, type: Int, offset: Int, size: Int) -> [UInt8] {
            var s = [UInt8](repeating: 0, count: 40)
            put32(name, at: 0, in: &s); put32(type, at: 4, in: &s); put32(offset, at: 16, in: &s); put32(size, at: 20, in: &s)
            return s
        }
        func file(_ d: [UInt8]) -> Data {
            Data(f + strtab + d + [UInt8](repeating: 0, count: 40) + section(name: 1, type: 3, offset: strOff, size: strtab.count)
                 + section(name: 11, type: 1, offset: dataOff, size: d.count))
        }
        let a = try #require(ELFFile(file(data1)))
        let b = try #require(ELFFile(file([1, 2, 3, 5])))
        #expect(!a.is64 && a.sections.map(\.name) == [".shstrtab", ".data"])
        #expect(ELFDiff.compare(a, b).sections == [ELFSectionChange(name: ".data", status: "changed", aSize: 4, bSize: 4)])
    }
}
