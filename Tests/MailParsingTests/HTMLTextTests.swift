import Testing
@testable import MailParsing

@Suite struct HTMLTextTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let html: String
        let text: String
        var testDescription: String { String(reflecting: html) }
    }

    static let cases: [Case] = [
        Case(html: "<p>One</p><p>Two</p>", text: "One\nTwo"),
        Case(html: "a<br>b<BR/>c<br />d", text: "a\nb\nc\nd"),
        Case(html: "<div>x</div>\n\n\n<div>y</div><br><br><br><br>z", text: "x\ny\n\nz"),
        Case(html: "<SCRIPT>var a = '<p>no</p>';</SCRIPT>shown<style type=\"text/css\">.x{}</style>", text: "shown"),
        Case(html: "<head><title>t</title><meta charset=utf-8></head><body>body</body>", text: "body"),
        Case(html: "<head><title>unclosed head<body>text", text: "text"),
        Case(html: "before<!-- <b>comment</b> -->after", text: "beforeafter"),
        Case(html: "open comment <!-- never closed", text: "open comment"),
        Case(html: "<ul><li>one<li>two</ul>", text: "- one\n- two"),
        Case(html: "<h1>Title</h1>text", text: "Title\ntext"),
        Case(html: "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", text: "a b\nc"),
        Case(html: "&amp;&lt;&gt;&quot;&#39;&apos;&nbsp;&#65;&#x42;&#X43;&euro;&hellip;&mdash;&copy;", text: "&<>\"'' ABC€…—©"),
        Case(html: "AT&T &unknown; &#xZZ; & alone &#0;", text: "AT&T &unknown; &#xZZ; & alone \u{FFFD}"),
        Case(html: "a  \t b\n c", text: "a b c"),
        Case(html: "<pre>keep\nlines</pre>", text: "keep\nlines"),
        Case(html: "x < y and y > z", text: "x < y and y > z"),
        Case(html: "unclosed <b tag", text: "unclosed <b tag"),
        Case(html: "<a href=\"https://x.example/?a=1&amp;b=2\">link</a>", text: "link"),
        Case(html: "<script>never closed", text: ""),
        Case(html: "", text: ""),
    ]

    @Test(arguments: cases)
    func reduce(_ testCase: Case) {
        #expect(HTMLText.reduce(testCase.html) == testCase.text)
    }

    @Test func largeBrokenInputStaysLinear() {
        let html = String(repeating: "<a<b&x", count: 50_000) + String(repeating: "<!--", count: 10_000)
        let text = HTMLText.reduce(html)
        #expect(text.hasPrefix("<a<b&x"))
    }
}
