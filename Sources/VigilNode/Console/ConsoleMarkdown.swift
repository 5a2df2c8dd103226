import Ink
import Paging

/// Knowledge-base articles from Markdown to HTML (Ink), with what Markdown lets through neutralised: raw HTML
/// is shown as text, and links and images keep only web, mail and in-site addresses. The page's CSP would stop
/// a script anyway; this keeps an article from even carrying one.
enum ConsoleMarkdown {
    static func html(from markdown: String) -> String {
        var parser = MarkdownParser()
        parser.addModifier(Modifier(target: .html) { input in PageText.html(String(input.markdown)) })
        for target in [Modifier.Target.links, .images] {
            parser.addModifier(Modifier(target: target) { input in
                let html = input.html
                let attribute = target == .links ? "href=\"" : "src=\""
                guard let start = html.range(of: attribute) else { return PageText.html(String(input.markdown)) }
                let address = html[start.upperBound...].lowercased()
                let allowed = ["https://", "http://", "mailto:", "/", "#"].contains { address.hasPrefix($0) } && !address.hasPrefix("//")
                return allowed ? html : PageText.html(String(input.markdown))
            })
        }
        return parser.html(from: markdown)
    }
}
