import HubCore
import Testing

@Suite("PageRequest.parse")
struct PageRequestTests {
    @Test("no parameters: the default limit and no cursor")
    func defaults() throws {
        let page = try PageRequest.parse(limit: nil, cursor: nil)
        #expect(page == PageRequest(cursor: nil, limit: PageRequest.defaultLimit))
        #expect(page.limit == 50)
    }

    @Test("limits from 1 to 200 are taken as given", arguments: [("1", 1), ("50", 50), ("200", 200)])
    func validLimits(raw: String, expected: Int) throws {
        #expect(try PageRequest.parse(limit: raw, cursor: nil).limit == expected)
    }

    @Test("limits out of range or not whole numbers are rejected", arguments: [
        "0", "201", "-1", "abc", "", " 5", "1.5", "1e2", "99999999999999999999999",
    ])
    func badLimits(raw: String) {
        let field = failingField { _ = try PageRequest.parse(limit: raw, cursor: nil) }
        #expect(field == "limit")
    }

    @Test("a cursor is passed through; empty or overlong cursors are rejected")
    func cursors() throws {
        let page = try PageRequest.parse(limit: "10", cursor: "conv_01KDVDNA00QQBK49HFXDQ9BW83")
        #expect(page == PageRequest(cursor: "conv_01KDVDNA00QQBK49HFXDQ9BW83", limit: 10))
        let longest = String(repeating: "c", count: 100)
        #expect(try PageRequest.parse(limit: nil, cursor: longest).cursor == longest)

        let empty = failingField { _ = try PageRequest.parse(limit: nil, cursor: "") }
        #expect(empty == "cursor")
        let overlong = failingField { _ = try PageRequest.parse(limit: nil, cursor: longest + "c") }
        #expect(overlong == "cursor")
    }
}
