"""Real-world curl commands, in the styles API docs, browsers and terminals write them, with the HTTP
action params each one must import as (and the options it names as unsupported)."""

import pytest


def rows(*pairs: tuple[str, str]) -> list[dict]:
    return [{"key": key, "value": value} for key, value in pairs]


def case(id: str, command: str, params: dict, unsupported: tuple[str, ...] = ()):
    return pytest.param(command, params, list(unsupported), id=id)


CORPUS = [
    case(
        "stripe-basic-user-and-repeated-data",
        r"""curl https://api.stripe.com/v1/charges \
  -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \
  -d amount=2000 \
  -d currency=usd \
  -d source=tok_visa \
  -d "metadata[order_id]=6735" \
  -d "expand[]=customer" \
  -d "expand[]=balance_transaction"
""",
        {
            "url": "https://api.stripe.com/v1/charges",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "FORM",
            "payload": {
                "amount": "2000",
                "currency": "usd",
                "source": "tok_visa",
                "metadata[order_id]": "6735",
                "expand[]": ["customer", "balance_transaction"],
            },
            "basic": {"username": "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "password": ""},
        },
    ),
    case(
        "github-bearer-and-accept-with-query",
        r"""curl -L \
  -H "Accept: application/vnd.github+json" \
  -H "Authorization: Bearer github_pat_11AAAA" \
  -H "X-GitHub-Api-Version: 2022-11-28" \
  "https://api.github.com/repos/octocat/hello-world/issues?state=open&labels=bug,ui&per_page=100"
""",
        {
            "url": "https://api.github.com/repos/octocat/hello-world/issues",
            "method": "GET",
            "headers": rows(
                ("Accept", "application/vnd.github+json"),
                ("Authorization", "Bearer github_pat_11AAAA"),
                ("X-GitHub-Api-Version", "2022-11-28"),
            ),
            "params": rows(("state", "open"), ("labels", "bug,ui"), ("per_page", "100")),
            "follow_redirects": True,
        },
    ),
    case(
        "github-create-issue-json-with-shell-quote-splice",
        r"""curl -L \
  -X POST \
  -H "Accept: application/vnd.github+json" \
  -H "Authorization: Bearer <YOUR-TOKEN>" \
  -H "X-GitHub-Api-Version: 2022-11-28" \
  https://api.github.com/repos/OWNER/REPO/issues \
  -d '{"title":"Found a bug","body":"I'"'"'m having a problem with this.","labels":["bug"]}'
""",
        {
            "url": "https://api.github.com/repos/OWNER/REPO/issues",
            "method": "POST",
            "headers": rows(
                ("Accept", "application/vnd.github+json"),
                ("Authorization", "Bearer <YOUR-TOKEN>"),
                ("X-GitHub-Api-Version", "2022-11-28"),
            ),
            "params": [],
            "content_type": "JSON",
            "payload": '{"title":"Found a bug","body":"I\'m having a problem with this.","labels":["bug"]}',
            "follow_redirects": True,
        },
    ),
    case(
        "slack-webhook",
        "curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"Hello, World! :wave:\"}' "
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        {
            "url": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '{"text":"Hello, World! :wave:"}',
        },
    ),
    case(
        "twilio-data-urlencode-plus-percent-unicode",
        r"""curl -X POST "https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXX/Messages.json" \
--data-urlencode "Body=Hello +1 %20 ünïcödé" \
--data-urlencode "From=+15557122661" \
--data-urlencode "To=+15558675310" \
-u ACXXXXXXXX:your_auth_token""",
        {
            "url": "https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXX/Messages.json",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "FORM",
            "payload": {"Body": "Hello +1 %20 ünïcödé", "From": "+15557122661", "To": "+15558675310"},
            "basic": {"username": "ACXXXXXXXX", "password": "your_auth_token"},
        },
    ),
    case(
        "query-plus-percent-2b-percent-20",
        "curl 'https://search.example.com/v1/find?q=hello+world&tag=c%2B%2B&name=%20padded%20"
        "&email=user+tag@example.com&empty='",
        {
            "url": "https://search.example.com/v1/find",
            "method": "GET",
            "headers": [],
            # "+" is a space to every form decoder; %2B is the plus sign.
            "params": rows(
                ("q", "hello world"),
                ("tag", "c++"),
                ("name", " padded "),
                ("email", "user tag@example.com"),
                ("empty", ""),
            ),
        },
    ),
    case(
        "query-unicode-raw-and-encoded",
        'curl "https://api.example.com/q?q=русский-текст&city=M%C3%BCnchen&emoji=%F0%9F%98%80" '
        "-H 'Accept-Language: de'",
        {
            "url": "https://api.example.com/q",
            "method": "GET",
            "headers": rows(("Accept-Language", "de")),
            "params": rows(("q", "русский-текст"), ("city", "München"), ("emoji", "😀")),
        },
    ),
    case(
        "repeated-headers-joined",
        r"""curl https://api.example.com/v2/items \
  -H 'Accept: application/json' \
  -H 'Accept: text/plain;q=0.5' \
  -H 'X-Trace: a' -H 'x-trace: b' \
  -b 'session=s3cr3t' -H 'Cookie: theme=dark'""",
        {
            "url": "https://api.example.com/v2/items",
            "method": "GET",
            "headers": rows(
                ("Accept", "application/json, text/plain;q=0.5"),
                ("X-Trace", "a, b"),
                ("Cookie", "theme=dark; session=s3cr3t"),
            ),
            "params": [],
        },
    ),
    case(
        "ansi-c-string-with-newline-quote-hex-unicode",
        r"""curl https://api.example.com/notes -H $'Content-Type: application/json' """
        r"""--data $'{"note":"line one\nline two\tend","author":"O\'Brien","""
        r""""path":"C:\\\\temp","x":"\x41\u00e9"}'""",
        {
            "url": "https://api.example.com/notes",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '{"note":"line one\nline two\tend","author":"O\'Brien","path":"C:\\\\temp","x":"Aé"}',
        },
    ),
    case(
        "get-moves-urlencoded-data-to-params",
        r"""curl -G https://api.example.com/search \
  --data-urlencode 'query=name:"Ada Lovelace" & co' \
  --data-urlencode 'sort=+created' \
  -d limit=10 \
  -d 'fields=id,name'""",
        {
            "url": "https://api.example.com/search",
            "method": "GET",
            "headers": [],
            "params": rows(
                ("query", 'name:"Ada Lovelace" & co'),
                ("sort", "+created"),
                ("limit", "10"),
                ("fields", "id,name"),
            ),
        },
    ),
    case(
        "form-text-fields",
        "curl -F name=Ada -F 'bio=Mathematician; poet' -F 'lang=en;type=text/plain' -F 'tag=a' -F 'tag=b' "
        "https://upload.example.com/profile",
        {
            "url": "https://upload.example.com/profile",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "FORM",
            "payload": {"name": "Ada", "bio": "Mathematician; poet", "lang": "en", "tag": ["a", "b"]},
        },
    ),
    case(
        "json-option-sets-accept",
        'curl --json \'{"name":"Ada","langs":["en","fr"]}\' https://api.example.com/users',
        {
            "url": "https://api.example.com/users",
            "method": "POST",
            "headers": rows(("Accept", "application/json")),
            "params": [],
            "content_type": "JSON",
            "payload": '{"name":"Ada","langs":["en","fr"]}',
        },
    ),
    case(
        "xput-attached-value",
        "curl -XPUT -H 'Content-Type: application/json' -d '{\"status\":\"done\"}' https://api.example.com/tasks/42",
        {
            "url": "https://api.example.com/tasks/42",
            "method": "PUT",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '{"status":"done"}',
        },
    ),
    case(
        "backslash-continuations-with-trailing-blanks",
        "curl \\\n  --request PATCH \\   \n  --url https://api.example.com/v1/users/7 \\\n"
        "  --header 'content-type: application/json' \\\t\n  --data '{\"email\":\"ada@example.com\"}'\n",
        {
            "url": "https://api.example.com/v1/users/7",
            "method": "PATCH",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '{"email":"ada@example.com"}',
        },
    ),
    case(
        "combined-short-flags-sSL-and-output",
        "curl -sSL https://get.example.com/install.sh -o install.sh",
        {
            "url": "https://get.example.com/install.sh",
            "method": "GET",
            "headers": [],
            "params": [],
            "follow_redirects": True,
        },
    ),
    case(
        "unsupported-tls-and-proxy-options-named",
        r"""curl -k --cert client.pem --key client.key --cacert ca.pem -x http://proxy.internal:3128 \
  --resolve api.example.com:443:10.0.0.5 https://api.example.com/health -vi --compressed""",
        {"url": "https://api.example.com/health", "method": "GET", "headers": [], "params": []},
        ("--insecure", "--cert", "--key", "--cacert", "--proxy", "--resolve"),
    ),
    case(
        "form-file-fields-unsupported",
        "curl -X POST https://api.example.com/documents -H 'Authorization: Token abc123' "
        "-F 'file=@./report.pdf' -F 'title=Q3 report' -F 'notes=<notes.txt'",
        {
            "url": "https://api.example.com/documents",
            "method": "POST",
            "headers": rows(("Authorization", "Token abc123")),
            "params": [],
            "content_type": "FORM",
            "payload": {"title": "Q3 report"},
        },
        ("--form @file",),
    ),
    case(
        "data-from-file-unsupported-keeps-method-and-type",
        'curl -X POST https://api.example.com/import -H "Content-Type: application/json" -d @payload.json',
        {
            "url": "https://api.example.com/import",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "JSON",
        },
        ("--data @file",),
    ),
    case(
        "chrome-copy-as-curl-cmd",
        'curl ^"https://www.example.com/api/graphql?op=Search^&v=2^" ^\n'
        '  -H ^"accept: */*^" ^\n'
        '  -H ^"content-type: application/json^" ^\n'
        '  -H ^"user-agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)^" ^\n'
        '  --data-raw ^"^{^\\^"query^\\^":^\\^"^{ search(q: ^\\^\\^\\^"100^%^\\^\\^\\^") ^}^\\^"^}^" ^\n'
        "  --compressed",
        {
            "url": "https://www.example.com/api/graphql",
            "method": "POST",
            "headers": rows(("accept", "*/*"), ("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)")),
            "params": rows(("op", "Search"), ("v", "2")),
            "content_type": "JSON",
            "payload": '{"query":"{ search(q: \\"100%\\") }"}',
        },
    ),
    case(
        "chrome-copy-as-curl-bash",
        r"""curl 'https://app.example.com/api/v1/orders?page=2' \
  -H 'authority: app.example.com' \
  -H 'accept: application/json, text/plain, */*' \
  -H 'content-type: application/json;charset=UTF-8' \
  -H 'cookie: _ga=GA1.2.3; csrftoken=abc' \
  -H 'origin: https://app.example.com' \
  --data-raw '{"items":[{"sku":"A-1","qty":2}],"note":"leave at door"}' \
  --compressed""",
        {
            "url": "https://app.example.com/api/v1/orders",
            "method": "POST",
            "headers": rows(
                ("authority", "app.example.com"),
                ("accept", "application/json, text/plain, */*"),
                ("content-type", "application/json;charset=UTF-8"),
                ("cookie", "_ga=GA1.2.3; csrftoken=abc"),
                ("origin", "https://app.example.com"),
            ),
            "params": rows(("page", "2")),
            "content_type": "JSON",
            "payload": '{"items":[{"sku":"A-1","qty":2}],"note":"leave at door"}',
        },
    ),
    case(
        "long-options-with-equals",
        "curl --request=DELETE --url=https://api.example.com/v1/sessions/abc --header='X-Api-Key: k-123' "
        "--user-agent='flows/1.0'",
        {
            "url": "https://api.example.com/v1/sessions/abc",
            "method": "DELETE",
            "headers": rows(("X-Api-Key", "k-123"), ("User-Agent", "flows/1.0")),
            "params": [],
        },
    ),
    case(
        "credentials-in-url-become-basic-auth",
        "curl https://ada:p%40ss%3Aword@api.example.com/v1/me",
        {
            "url": "https://api.example.com/v1/me",
            "method": "GET",
            "headers": [],
            "params": [],
            "basic": {"username": "ada", "password": "p@ss:word"},
        },
    ),
    case(
        "user-agent-referer-cookies",
        "curl -A 'MyApp/1.0 (+https://myapp.example)' -e 'https://ref.example/page;auto' "
        "-b 'session=abc; theme=dark' -b lang=en https://shop.example.com/cart",
        {
            "url": "https://shop.example.com/cart",
            "method": "GET",
            "headers": rows(
                ("User-Agent", "MyApp/1.0 (+https://myapp.example)"),
                ("Referer", "https://ref.example/page"),
                ("Cookie", "session=abc; theme=dark; lang=en"),
            ),
            "params": [],
        },
    ),
    case(
        "empty-header-and-removed-header",
        "curl -H 'X-Empty;' -H 'Accept:' -H 'X-Spaced:    value   ' https://api.example.com/ping",
        {
            "url": "https://api.example.com/ping",
            "method": "GET",
            "headers": rows(("X-Empty", ""), ("X-Spaced", "value")),
            "params": [],
        },
    ),
    case(
        "delete-with-json-body",
        "curl -X DELETE https://api.example.com/v1/items -H 'Content-Type: application/json' "
        "-d '{\"ids\":[1,2]}'",
        {
            "url": "https://api.example.com/v1/items",
            "method": "DELETE",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '{"ids":[1,2]}',
        },
    ),
    case(
        "soap-xml-with-charset-keeps-its-content-type",
        r"""curl -X POST https://soap.example.com/ws \
  -H 'Content-Type: text/xml; charset=utf-8' \
  -H 'SOAPAction: "urn:GetQuote"' \
  --data-binary '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetQuote><sym>ACME &amp; Co</sym></GetQuote></soap:Body></soap:Envelope>'""",  # noqa: E501
        {
            "url": "https://soap.example.com/ws",
            "method": "POST",
            "headers": rows(("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", '"urn:GetQuote"')),
            "params": [],
            "content_type": "XML",
            "payload": '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope '
            'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetQuote><sym>ACME &amp; Co'
            "</sym></GetQuote></soap:Body></soap:Envelope>",
        },
    ),
    case(
        "application-xml",
        "curl -H 'Content-Type: application/xml' -d '<order><id>42</id></order>' https://api.example.com/orders",
        {
            "url": "https://api.example.com/orders",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "XML",
            "payload": "<order><id>42</id></order>",
        },
    ),
    case(
        "json-data-without-content-type-is-json",
        'curl -d \'{"name":"Ada"}\' https://api.example.com/users',
        {
            "url": "https://api.example.com/users",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '{"name":"Ada"}',
        },
    ),
    case(
        "text-plain-body-sent-as-typed",
        "curl -H 'Content-Type: text/plain' --data-binary 'hello world' https://api.example.com/echo",
        {
            "url": "https://api.example.com/echo",
            "method": "POST",
            "headers": rows(("Content-Type", "text/plain")),
            "params": [],
            "content_type": "XML",
            "payload": "hello world",
        },
    ),
    case(
        "data-that-is-not-fields-keeps-curls-content-type",
        "curl -d 'just some text' https://api.example.com/raw",
        {
            "url": "https://api.example.com/raw",
            "method": "POST",
            "headers": rows(("Content-Type", "application/x-www-form-urlencoded")),
            "params": [],
            "content_type": "XML",
            "payload": "just some text",
        },
    ),
    case(
        "expressions-kept-exactly",
        'curl --json \'{"id": "{{fields.id}}", "n": {{fields.n}}}\' \'https://api.example.com/users/{{fields.id}}\'',
        {
            "url": "https://api.example.com/users/{{fields.id}}",
            "method": "POST",
            "headers": rows(("Accept", "application/json")),
            "params": [],
            "content_type": "JSON",
            "payload": '{"id": "{{fields.id}}", "n": {{fields.n}}}',
        },
    ),
    case(
        "max-time-retry-oauth2-bearer",
        "curl -m 10 --retry 3 --retry-delay 2 --oauth2-bearer tok_abc https://api.example.com/v1/me",
        {
            "url": "https://api.example.com/v1/me",
            "method": "GET",
            "headers": rows(("Authorization", "Bearer tok_abc")),
            "params": [],
            "timeout": 10,
            "retry": {
                "attempts": 4,
                "backoff": "fixed",
                "delay": 2.0,
                "on_statuses": "408, 429, 500, 502-504",
            },
        },
    ),
    case(
        "url-query-option",
        "curl --url-query 'q=a b&c' --url-query '+raw=%2F' https://api.example.com/search?page=1",
        {
            "url": "https://api.example.com/search",
            "method": "GET",
            "headers": [],
            "params": rows(("page", "1"), ("q", "a b&c"), ("raw", "/")),
        },
    ),
    case(
        "elasticsearch-get-with-body-and-flag-query",
        "curl -X GET \"localhost:9200/_search?pretty\" -H 'Content-Type: application/json' -d'\n"
        '{\n  "query": { "match_all": {} }\n}\n\'',
        {
            # "pretty" has no "=": rows would send "pretty=", so the query stays in the URL.
            "url": "http://localhost:9200/_search?pretty",
            "method": "GET",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '\n{\n  "query": { "match_all": {} }\n}\n',
        },
    ),
    case(
        "head-unsupported",
        "curl -I https://www.example.com/",
        {"url": "https://www.example.com/", "method": "GET", "headers": [], "params": []},
        ("--head",),
    ),
    case(
        "prompt-comment-and-pipe",
        "$ curl -s https://api.example.com/v1/items?limit=5 \\\n"
        '    -H "Accept: application/json" # list items\n'
        "    | jq '.items[]'",
        {
            "url": "https://api.example.com/v1/items",
            "method": "GET",
            "headers": rows(("Accept", "application/json")),
            "params": rows(("limit", "5")),
        },
    ),
    case(
        "redirections-end-the-command",
        "curl -s https://api.example.com/export 2>/dev/null > export.json",
        {"url": "https://api.example.com/export", "method": "GET", "headers": [], "params": []},
    ),
    case(
        "data-urlencode-name-less-forms-and-file",
        "curl --data-urlencode '=a&b=c' --data-urlencode 'plain text' --data-urlencode 'name@file.txt' "
        "--data-urlencode 'k=v@x' https://api.example.com/form",
        {
            "url": "https://api.example.com/form",
            "method": "POST",
            "headers": rows(("Content-Type", "application/x-www-form-urlencoded")),
            "params": [],
            "content_type": "XML",
            "payload": "a%26b%3Dc&plain%20text&k=v%40x",
        },
        ("--data-urlencode @file",),
    ),
    case(
        "lowercase-method",
        "curl -X patch https://api.example.com/v1/a -d x=1",
        {
            "url": "https://api.example.com/v1/a",
            "method": "PATCH",
            "headers": [],
            "params": [],
            "content_type": "FORM",
            "payload": {"x": "1"},
        },
    ),
    case(
        "method-the-action-does-not-have",
        "curl -X OPTIONS https://api.example.com/v1/a",
        {"url": "https://api.example.com/v1/a", "method": "GET", "headers": [], "params": []},
        ("--request OPTIONS",),
    ),
    case(
        "cookie-file-unsupported-cookie-jar-ignored",
        "curl -b cookies.txt -c cookies.txt https://api.example.com/me",
        {"url": "https://api.example.com/me", "method": "GET", "headers": [], "params": []},
        ("--cookie file",),
    ),
    case(
        "windows-cmd-handwritten",
        'curl.exe -X POST "https://api.example.com/v1/items" ^\n'
        '  -H "Content-Type: application/json" ^\n'
        '  -d "{\\"name\\": \\"Ada \\\\\\"the first\\\\\\"\\"}"',
        {
            "url": "https://api.example.com/v1/items",
            "method": "POST",
            "headers": [],
            "params": [],
            "content_type": "JSON",
            "payload": '{"name": "Ada \\"the first\\""}',
        },
    ),
    case(
        "double-quote-escapes",
        r"""curl "https://api.example.com/v1/echo" -H "X-Literal: a\nb \$HOME \`cmd\` \"q\" \\" """
        r'''-d "{\"k\":\"v\"}" -H "Content-Type: application/json"''',
        {
            "url": "https://api.example.com/v1/echo",
            "method": "POST",
            "headers": rows(("X-Literal", 'a\\nb $HOME `cmd` "q" \\')),
            "params": [],
            "content_type": "JSON",
            "payload": '{"k":"v"}',
        },
    ),
    case(
        "variables-stay-literal",
        'curl -H "Authorization: Bearer $API_TOKEN" "$BASE_URL/v1/me"',
        {
            "url": "$BASE_URL/v1/me",
            "method": "GET",
            "headers": rows(("Authorization", "Bearer $API_TOKEN")),
            "params": [],
        },
    ),
    case(
        "url-without-scheme-is-http",
        "curl localhost:8000/api/health",
        {"url": "http://localhost:8000/api/health", "method": "GET", "headers": [], "params": []},
    ),
]
