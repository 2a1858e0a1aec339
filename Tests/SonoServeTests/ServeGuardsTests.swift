import Foundation
import XCTest
import Hummingbird
@testable import SonoServe

/// The server's guards, each alone: paths confined to the root, multipart bodies read strictly, tokens compared
/// without an early exit, upload names made safe, settings that would expose the server refused.
final class ServeGuardsTests: XCTestCase {
    var root: URL!
    var outside: URL!

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("serve-guards-\(UUID().uuidString)")
        root = base.appendingPathComponent("root")
        outside = base.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("run"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("report".utf8).write(to: root.appendingPathComponent("run/report.html"))
        try Data("secret".utf8).write(to: outside.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("escape"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("inside"), withDestinationURL: root.appendingPathComponent("run"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }

    private func status(_ body: () throws -> Any) -> Int? {
        do { _ = try body(); return nil } catch let e as APIError { return e.status.code } catch { return -1 }
    }

    func testPathsStayInsideTheRoot() throws {
        XCTAssertEqual(try PathGuard.confine("run/report.html", to: root).lastPathComponent, "report.html")
        XCTAssertEqual(try PathGuard.confine("inside/report.html", to: root).lastPathComponent, "report.html", "a link inside the root is followed")
        for hostile in ["../outside/secret.txt", "run/../../outside/secret.txt", "/etc/passwd", "run/./report.html", "run//report.html", "a\0b", "run\\report.html"] {
            XCTAssertEqual(status { try PathGuard.confine(hostile, to: self.root) }, 403, hostile)
        }
        XCTAssertEqual(status { try PathGuard.confine("escape/secret.txt", to: self.root) }, 403, "a symbolic link leading out is refused")
        XCTAssertEqual(status { try PathGuard.confine("run/none.html", to: self.root) }, 404)
        XCTAssertEqual(status { try PathGuard.confine(String(repeating: "a/", count: 3000), to: self.root) }, 400)
    }

    func testMultipartIsReadStrictly() throws {
        let body = Array("--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a b.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n--XyZ--\r\n".utf8)
        XCTAssertEqual(try Multipart.boundary(contentType: "multipart/form-data; boundary=XyZ"), "XyZ")
        XCTAssertNil(try Multipart.boundary(contentType: "image/png"))
        let part = try Multipart.filePart(body, boundary: "XyZ")
        XCTAssertEqual(part.name, "image")
        XCTAssertEqual(part.filename, "a b.png")
        XCTAssertEqual(String(decoding: part.body, as: UTF8.self), "PNGDATA")
        // truncated anywhere: refused, never a partial file
        for cut in [10, 60, body.count - 12, body.count - 4] {
            XCTAssertEqual(status { try Multipart.filePart(Array(body.prefix(cut)), boundary: "XyZ") }, 400, "cut at \(cut)")
        }
        XCTAssertEqual(status { try Multipart.filePart(body, boundary: "Other") }, 400, "another boundary")
        XCTAssertEqual(status { try Multipart.boundary(contentType: "multipart/form-data") }, 400, "no boundary")
        XCTAssertEqual(status { try Multipart.boundary(contentType: "multipart/mixed; boundary=a") }, 415)
    }

    func testTokensAreComparedWhole() {
        let a = Array("0123456789abcdef".utf8)
        XCTAssertTrue(TokenMiddleware<BasicRequestContext>.same(a, a))
        XCTAssertFalse(TokenMiddleware<BasicRequestContext>.same(a, Array("0123456789abcdeg".utf8)))
        XCTAssertFalse(TokenMiddleware<BasicRequestContext>.same(a, Array("0123456789abcde".utf8)))
    }

    func testUploadNamesAreMadeSafe() {
        XCTAssertEqual(UploadName.sanitise("../../etc/passwd"), "passwd")
        XCTAssertEqual(UploadName.sanitise("C:\\scans\\case 1.png"), "case_1.png")
        XCTAssertEqual(UploadName.sanitise(".hidden.png"), "hidden.png")
        XCTAssertEqual(UploadName.sanitise(nil), "upload.png")
        XCTAssertEqual(UploadName.sanitise("/"), "upload.png")
        XCTAssertEqual(UploadName.sanitise("résumé\u{0}.dcm"), "r_sum__.dcm")
        XCTAssertEqual(UploadName.sanitise(String(repeating: "x", count: 300)).count, 100)
        let long = UploadName.sanitise(String(repeating: "x", count: 3000) + ".png")
        XCTAssertEqual(long.count, 100)
        XCTAssertTrue(long.hasSuffix(".png"), "a shortened name keeps its extension: \(long)")
    }

    func testSettingsThatExposeTheServerAreRefused() throws {
        var s = ServeSettings(root: root)
        XCTAssertNoThrow(try s.validate())
        s.host = "0.0.0.0"
        XCTAssertThrowsError(try s.validate()) { XCTAssertTrue("\($0)".contains("--token"), "\($0)") }
        s.token = "a-long-enough-token"
        XCTAssertNoThrow(try s.validate())
        s.root = root.appendingPathComponent("missing")
        XCTAssertThrowsError(try s.validate()) { XCTAssertTrue("\($0)".contains("no such folder"), "\($0)") }
    }
}
