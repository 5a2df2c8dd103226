/// The console's Mustache templates, compiled into the binary so a node serves its console with no files and no
/// internet. Every visible word comes from the message catalog (`t.…`); `{{…}}` escapes what it inserts.
enum ConsoleTemplates {
    static let all: [String: String] = [
        "layout": layout, "sign_in": signIn, "now": now, "tickets": tickets, "ticket": ticket, "new_ticket": newTicket,
        "schedules": schedules, "services": services, "service_edit": serviceEdit, "kb": knowledgeBase, "article": article,
        "cluster": cluster, "problem": problem, "clock": clock, "reports": reports, "article_edit": articleEdit, "set_password": setPassword, "policy_edit": policyEdit,
    ]

    static let layout = #"""
<!doctype html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · Vigil</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body data-live="{{#live}}on{{/live}}" data-lang="{{lang}}" data-overdue="{{t.overdue}}">
<a class="skip" href="#live">{{t.skip_to_content}}</a>
<header>
<a class="brand" href="/console/now">Vigil</a>
{{#user}}
<nav aria-label="{{t.navigation}}">
<a href="/console/now">{{t.nav_now}}</a>
<a href="/console/tickets">{{t.nav_tickets}}</a>
<a href="/console/tickets/new">{{t.nav_register}}</a>
<a href="/console/schedules">{{t.nav_schedules}}</a>
<a href="/console/services">{{t.nav_services}}</a>
<a href="/console/kb">{{t.nav_kb}}</a>
<a href="/console/reports">{{t.nav_reports}}</a>
<a href="/console/cluster">{{t.nav_cluster}}</a>
</nav>
<form class="inline" method="post" action="/console/sign-out">
<input type="hidden" name="csrf" value="{{csrf}}">
<span class="who">{{user.name}} ({{user.role_label}})</span>
<button type="submit">{{t.sign_out}}</button>
</form>
{{/user}}
<a class="lang" href="/console/lang?to={{other_lang}}&amp;back={{back}}" lang="{{other_lang}}">{{t.other_language}}</a>
</header>
{{#flash}}<p class="flash" role="status">{{flash}}</p>{{/flash}}
{{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
<main id="live">
<h1>{{title}}</h1>
{{$main}}{{/main}}
</main>
<footer>{{t.node}} {{node.id}} · {{node.role_label}} · {{t.term}} {{node.term}}</footer>
</body>
</html>
"""#

    static let signIn = #"""
{{<layout}}{{$main}}
<form class="card" method="post" action="/console/sign-in">
<input type="hidden" name="next" value="{{next}}">
<fieldset>
<legend>{{t.sign_in_password}}</legend>
<label for="person">{{t.person_id}}</label>
<input id="person" name="person" autocomplete="username" value="{{person}}">
<label for="password">{{t.password}}</label>
<input id="password" name="password" type="password" autocomplete="current-password">
</fieldset>
<fieldset>
<legend>{{t.sign_in_token}}</legend>
<label for="token">{{t.api_token}}</label>
<input id="token" name="token" type="password" autocomplete="off">
</fieldset>
<button type="submit" id="sign-in">{{t.sign_in}}</button>
</form>
{{/main}}{{/layout}}
"""#

    static let setPassword = #"""
{{<layout}}{{$main}}
{{#valid}}
<form class="card" method="post" action="/console/set-password/{{secret}}">
<p>{{t.person}}: <strong>{{person}}</strong></p>
<label for="new-password">{{t.new_password}}</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="128">
<label for="repeat-password">{{t.repeat_password}}</label>
<input id="repeat-password" name="repeat" type="password" autocomplete="new-password" required minlength="10" maxlength="128">
<button type="submit" id="set-password">{{t.set_password}}</button>
</form>
{{/valid}}
{{/main}}{{/layout}}
"""#

    static let now = #"""
{{<layout}}{{$main}}
<section aria-labelledby="h-emergencies">
<h2 id="h-emergencies">{{t.unacknowledged_emergencies}}</h2>
{{^emergencies}}<p class="empty">{{t.none}}</p>{{/emergencies}}
{{#has_emergencies}}<table class="list"><thead><tr><th>{{t.ticket}}</th><th>{{t.service}}</th><th>{{t.registered}}</th><th>{{t.next_escalation}}</th><th>{{t.actions}}</th></tr></thead><tbody>{{/has_emergencies}}
{{#emergencies}}
<tr class="emergency" data-ticket="{{id}}">
<td><a href="/console/tickets/{{id}}">#{{id}} {{title}}</a> <span class="pill {{priority}}">{{priority}}</span></td>
<td>{{service}}</td>
<td><time data-ms="{{registered_ms}}">{{registered_iso}}</time></td>
<td>{{#next_due_ms}}{{t.level}} {{next_level}}: <span class="countdown" data-due="{{next_due_ms}}">{{next_due_iso}}</span>{{/next_due_ms}}{{^next_due_ms}}{{t.all_levels_paged}}{{/next_due_ms}}</td>
<td>{{#can_respond}}<form class="inline" method="post" action="/console/tickets/{{id}}/acknowledge"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="back" value="/console/now"><button type="submit" class="ack">{{t.acknowledge}}</button></form>{{/can_respond}}</td>
</tr>
{{/emergencies}}
{{#has_emergencies}}</tbody></table>{{/has_emergencies}}
</section>
<section aria-labelledby="h-mine">
<h2 id="h-mine">{{t.my_open_tickets}}</h2>
{{^mine}}<p class="empty">{{t.none}}</p>{{/mine}}
{{#mine}}
<article class="ticket-line">
<a href="/console/tickets/{{id}}">#{{id}} {{title}}</a> <span class="pill {{priority}}">{{priority}}</span> <span>{{stage_label}}</span>
<ul class="clocks">{{#clocks}}<li>{{> clock}}</li>{{/clocks}}</ul>
</article>
{{/mine}}
</section>
<section aria-labelledby="h-oncall">
<h2 id="h-oncall">{{t.on_call}}</h2>
{{^schedules}}<p class="empty">{{t.no_schedules}}</p>{{/schedules}}
{{#schedules}}
<article class="schedule">
<h3><a href="/console/schedules?id={{id}}">{{name}}</a></h3>
<p>{{t.on_call_now}}: <strong>{{now_person}}</strong>{{#now_until_ms}} · {{t.until}} <time data-ms="{{now_until_ms}}">{{now_until_iso}}</time>{{/now_until_ms}}</p>
<details><summary>{{t.next_7_days}}</summary>
<ul>{{#shifts}}<li>{{person}}: <time data-ms="{{start_ms}}">{{start_iso}}</time> – <time data-ms="{{end_ms}}">{{end_iso}}</time> ({{hours}} {{t.hours}})</li>{{/shifts}}</ul>
</details>
</article>
{{/schedules}}
</section>
{{/main}}{{/layout}}
"""#

    /// One SLA clock: a countdown that the script turns amber at the warning time and red at the deadline.
    static let clock = #"""
<span class="clock-name">{{target_label}}</span> {{#due_ms}}<span class="countdown" data-due="{{due_ms}}" data-warn="{{warn_ms}}">{{due_iso}}</span>{{/due_ms}}{{#state_label}}<span class="clock-state {{state}}">{{state_label}}</span>{{/state_label}}
"""#

    static let tickets = #"""
{{<layout}}{{$main}}
<form class="filters" method="get" action="/console/tickets">
<label for="f-stage">{{t.stage}}</label>
<select id="f-stage" name="stage"><option value="">{{t.any}}</option>{{#stages}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/stages}}</select>
<label for="f-priority">{{t.priority}}</label>
<select id="f-priority" name="priority"><option value="">{{t.any}}</option>{{#priorities}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/priorities}}</select>
<label for="f-kind">{{t.kind}}</label>
<select id="f-kind" name="kind"><option value="">{{t.any}}</option>{{#kinds}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/kinds}}</select>
<label for="f-service">{{t.service}}</label>
<select id="f-service" name="service"><option value="">{{t.any}}</option>{{#services}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/services}}</select>
<label for="f-owner">{{t.owner}}</label>
<input id="f-owner" name="owner" value="{{owner}}">
<label for="f-breached"><input id="f-breached" type="checkbox" name="breached" value="1" {{#breached}}checked{{/breached}}> {{t.breached_only}}</label>
<button type="submit">{{t.filter}}</button>
</form>
<p class="count">{{count_label}}</p>
<table class="list">
<thead><tr><th>{{t.ticket}}</th><th>{{t.kind}}</th><th>{{t.stage}}</th><th>{{t.service}}</th><th>{{t.owner}}</th><th>{{t.registered}}</th><th>{{t.sla}}</th></tr></thead>
<tbody>
{{#rows}}
<tr data-ticket="{{id}}">
<td><a href="/console/tickets/{{id}}">#{{id}} {{title}}</a> <span class="pill {{priority}}">{{priority}}</span></td>
<td>{{kind_label}}</td><td>{{stage_label}}</td><td>{{service}}</td><td>{{owner}}</td>
<td><time data-ms="{{registered_ms}}">{{registered_iso}}</time></td>
<td>{{#clock}}{{> clock}}{{/clock}}{{#breached}} <span class="clock-state breached">{{t.breached}}</span>{{/breached}}</td>
</tr>
{{/rows}}
</tbody>
</table>
{{/main}}{{/layout}}
"""#

    static let ticket = #"""
{{<layout}}{{$main}}
<dl class="facts">
<dt>{{t.kind}}</dt><dd>{{kind_label}}</dd>
<dt>{{t.priority}}</dt><dd><span class="pill {{priority}}">{{priority}}</span></dd>
<dt>{{t.stage}}</dt><dd id="stage">{{stage_label}}{{#waiting}} · {{t.waiting_for_customer}}{{/waiting}}</dd>
<dt>{{t.service}}</dt><dd>{{service}}</dd>
<dt>{{t.customer}}</dt><dd>{{customer}}</dd>
<dt>{{t.owner}}</dt><dd>{{owner}}</dd>
<dt>{{t.registered}}</dt><dd><time data-ms="{{registered_ms}}">{{registered_iso}}</time></dd>
<dt>{{t.acknowledged}}</dt><dd>{{#acknowledged_ms}}<time data-ms="{{acknowledged_ms}}">{{acknowledged_iso}}</time> {{acknowledged_by}}{{/acknowledged_ms}}{{^acknowledged_ms}}{{t.not_yet}}{{/acknowledged_ms}}</dd>
{{#escalation}}<dt>{{t.escalation}}</dt><dd>{{#next_due_ms}}{{t.level}} {{next_level}}: <span class="countdown" data-due="{{next_due_ms}}">{{next_due_iso}}</span>{{/next_due_ms}}{{^next_due_ms}}{{t.escalation_stopped}}{{/next_due_ms}}</dd>{{/escalation}}
</dl>
<h2>{{t.sla}}</h2>
<ul class="clocks">{{#clocks}}<li>{{> clock}}</li>{{/clocks}}</ul>
{{#can_respond}}
<h2>{{t.actions}}</h2>
<div class="actions">
<form method="post" action="/console/tickets/{{id}}/acknowledge"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="ack">{{t.acknowledge}}</button></form>
<form method="post" action="/console/tickets/{{id}}/resolve"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.resolve}}</button></form>
<form method="post" action="/console/tickets/{{id}}/assign"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="a-owner">{{t.assign_to}}</label><select id="a-owner" name="owner_id">{{#people}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/people}}</select>
<button type="submit">{{t.assign}}</button></form>
<form method="post" action="/console/tickets/{{id}}/transition"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="a-stage">{{t.move_to_stage}}</label><select id="a-stage" name="stage">{{#stages}}<option value="{{value}}">{{label}}</option>{{/stages}}</select>
<button type="submit">{{t.move}}</button></form>
<form method="post" action="/console/tickets/{{id}}/priority"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="a-priority">{{t.priority}}</label><select id="a-priority" name="priority">{{#priorities}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/priorities}}</select>
<button type="submit">{{t.change_priority}}</button></form>
<form method="post" action="/console/tickets/{{id}}/waiting"><input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="waiting" value="{{waiting_toggle}}">
<button type="submit">{{#waiting}}{{t.customer_replied}}{{/waiting}}{{^waiting}}{{t.wait_for_customer}}{{/waiting}}</button></form>
<form class="wide" method="post" action="/console/tickets/{{id}}/comment"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="a-comment">{{t.comment}}</label><textarea id="a-comment" name="text" rows="3"></textarea>
<label for="a-visible"><input id="a-visible" type="checkbox" name="customer_visible" value="1"> {{t.customer_visible}}</label>
<button type="submit">{{t.add_comment}}</button></form>
<form class="wide" method="post" action="/console/tickets/{{id}}/initial-solution"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="a-solution">{{t.initial_solution}}</label><textarea id="a-solution" name="text" rows="2"></textarea>
<button type="submit">{{t.record_solution}}</button></form>
<form class="wide" method="post" action="/console/tickets/{{id}}/reopen"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="a-reason">{{t.reopen_reason}}</label><input id="a-reason" name="reason">
<button type="submit">{{t.reopen}}</button></form>
<form class="wide" method="post" action="/console/tickets/{{id}}/rate"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="a-rating">{{t.rating}}</label><select id="a-rating" name="rating"><option>5</option><option>4</option><option>3</option><option>2</option><option>1</option></select>
<label for="a-rate-comment">{{t.rating_comment}}</label><input id="a-rate-comment" name="comment">
<button type="submit">{{t.rate}}</button></form>
</div>
{{/can_respond}}
<h2>{{t.timeline}}</h2>
<ol class="timeline" id="timeline">
{{#timeline}}<li><time data-ms="{{at_ms}}">{{at_iso}}</time> <span class="actor">{{actor}}</span> <span class="what">{{what}}</span>{{#detail}}<pre class="detail">{{detail}}</pre>{{/detail}}</li>{{/timeline}}
</ol>
{{/main}}{{/layout}}
"""#

    static let newTicket = #"""
{{<layout}}{{$main}}
<form class="card" method="post" action="/console/tickets">
<input type="hidden" name="csrf" value="{{csrf}}">
<label for="n-kind">{{t.kind}}</label>
<select id="n-kind" name="kind">{{#kinds}}<option value="{{value}}">{{label}}</option>{{/kinds}}</select>
<label for="n-priority">{{t.priority}}</label>
<select id="n-priority" name="priority">{{#priorities}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/priorities}}</select>
<label for="n-customer">{{t.customer}}</label>
<input id="n-customer" name="customer">
<label for="n-service">{{t.service}}</label>
<select id="n-service" name="service">{{#services}}<option value="{{value}}">{{label}}</option>{{/services}}</select>
<label for="n-title">{{t.title}}</label>
<input id="n-title" name="title" required maxlength="200" data-suggest="on">
<label for="n-description">{{t.description}}</label>
<textarea id="n-description" name="description" rows="5" data-suggest="on"></textarea>
<section aria-live="polite" aria-labelledby="h-suggest">
<h2 id="h-suggest">{{t.suggested_articles}}</h2>
<ul id="suggestions" data-empty="{{t.no_suggestions}}"></ul>
</section>
<button type="submit" id="register">{{t.register}}</button>
</form>
{{/main}}{{/layout}}
"""#

    static let schedules = #"""
{{<layout}}{{$main}}
<form class="filters" method="get" action="/console/schedules">
<label for="s-id">{{t.schedule}}</label>
<select id="s-id" name="id">{{#choices}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/choices}}</select>
<label for="s-from">{{t.from_date}}</label><input id="s-from" type="date" name="from" value="{{from}}">
<label for="s-at">{{t.who_at}}</label><input id="s-at" type="datetime-local" name="at" value="{{at}}">
<button type="submit">{{t.show}}</button>
</form>
{{#schedule}}
<p>{{t.time_zone}}: {{zone}}{{#at_person}} · {{t.on_call_at}} {{at}}: <strong id="on-call-at">{{at_person}}</strong>{{/at_person}}</p>
<h2>{{t.final_schedule}}</h2>
{{{svg}}}
<table class="list" id="final-shifts"><thead><tr><th>{{t.person}}</th><th>{{t.start}}</th><th>{{t.end}}</th><th>{{t.hours}}</th></tr></thead><tbody>
{{#shifts}}<tr><td>{{person}}</td><td><time data-ms="{{start_ms}}">{{start_iso}}</time></td><td><time data-ms="{{end_ms}}">{{end_iso}}</time></td><td class="hours">{{hours}}</td></tr>{{/shifts}}
</tbody></table>
<h2>{{t.layers}}</h2>
{{#layers}}<h3>{{name}}</h3><p>{{people}}</p>{{{svg}}}{{/layers}}
<h2>{{t.overrides}}</h2>
<ul id="overrides">{{#overrides}}<li>{{person}}: <time data-ms="{{start_ms}}">{{start_iso}}</time> – <time data-ms="{{end_ms}}">{{end_iso}}</time>
{{#can_manage}}<form class="inline" method="post" action="/console/schedules/{{id}}/overrides/remove"><input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="person" value="{{person_id}}"><input type="hidden" name="start_ms" value="{{start_ms}}"><input type="hidden" name="end_ms" value="{{end_ms}}">
<button type="submit">{{t.remove}}</button></form>{{/can_manage}}</li>{{/overrides}}</ul>
{{#can_manage}}
<form class="card" method="post" action="/console/schedules/{{id}}/overrides"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="o-person">{{t.person}}</label><select id="o-person" name="person">{{#people}}<option value="{{value}}">{{label}}</option>{{/people}}</select>
<label for="o-start">{{t.start}} ({{zone}})</label><input id="o-start" type="datetime-local" name="start" required>
<label for="o-end">{{t.end}} ({{zone}})</label><input id="o-end" type="datetime-local" name="end" required>
<button type="submit">{{t.add_override}}</button>
</form>
{{/can_manage}}
{{/schedule}}
{{/main}}{{/layout}}
"""#

    static let services = #"""
{{<layout}}{{$main}}
{{#services}}
<article class="card">
<h2>{{name}} <small>({{id}})</small></h2>
<dl class="facts">
<dt>{{t.team}}</dt><dd>{{team}}</dd>
<dt>{{t.escalation_policy}}</dt><dd>{{policy}}</dd>
<dt>{{t.sla_policy}}</dt><dd>{{sla}}</dd>
</dl>
<h3>{{t.integration_keys}}</h3>
<ul>{{#keys}}<li><code>{{key}}</code><br>{{t.alertmanager_url}}: <code>{{alertmanager}}</code><br>{{t.pagerduty_url}}: <code>{{pagerduty}}</code></li>{{/keys}}</ul>
<h3>{{t.maintenance_windows}}</h3>
<ul>{{#windows}}<li><time data-ms="{{start_ms}}">{{start_iso}}</time> – <time data-ms="{{end_ms}}">{{end_iso}}</time> {{reason}}</li>{{/windows}}</ul>
{{#can_manage}}<p><a href="/console/services/{{id}}/edit">{{t.edit}}</a></p>{{/can_manage}}
</article>
{{/services}}
<h2>{{t.escalation_policies}}</h2>
{{#policies}}
<article class="card"><h3>{{name}} <small>({{id}}, {{t.version}} {{version}})</small></h3>
<ol>{{#levels}}<li>{{delay}} {{t.minutes}}: {{targets}}</li>{{/levels}}</ol>
{{#can_manage}}<p><a href="/console/policies/edit?id={{id}}">{{t.edit}}</a></p>{{/can_manage}}</article>
{{/policies}}
{{/main}}{{/layout}}
"""#

    static let serviceEdit = #"""
{{<layout}}{{$main}}
<form class="card" method="post" action="/console/services/{{id}}/settings"><input type="hidden" name="csrf" value="{{csrf}}">
<h2>{{t.service}}</h2>
<label for="s-name">{{t.title}}</label><input id="s-name" name="name" value="{{name}}" required>
<label for="s-team">{{t.team}}</label><select id="s-team" name="team_id"><option value="">—</option>{{#teams}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/teams}}</select>
<label for="s-policy">{{t.escalation_policy}}</label><select id="s-policy" name="escalation_policy_id"><option value="">—</option>{{#policies}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/policies}}</select>
<label for="s-sla">{{t.sla_policy}}</label><select id="s-sla" name="sla_policy_id"><option value="">—</option>{{#slas}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/slas}}</select>
<button type="submit" id="save-service">{{t.save}}</button>
</form>
<form class="card" method="post" action="/console/services/{{id}}/maintenance-windows"><input type="hidden" name="csrf" value="{{csrf}}">
<h2>{{t.add_maintenance_window}}</h2>
<label for="m-start">{{t.start}} ({{zone}})</label><input id="m-start" type="datetime-local" name="start" required>
<label for="m-end">{{t.end}} ({{zone}})</label><input id="m-end" type="datetime-local" name="end" required>
<label for="m-reason">{{t.reason}}</label><input id="m-reason" name="reason" required>
<button type="submit">{{t.add}}</button>
</form>
<form class="card" method="post" action="/console/services/{{id}}/integration-keys"><input type="hidden" name="csrf" value="{{csrf}}">
<h2>{{t.add_integration_key}}</h2>
<label for="k-key">{{t.integration_key}}</label><input id="k-key" name="key" required>
<button type="submit">{{t.add}}</button>
</form>
{{/main}}{{/layout}}
"""#

    static let policyEdit = #"""
{{<layout}}{{$main}}
<form class="card" method="post" action="/console/policies/edit"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="p-id">{{t.policy_id}}</label><input id="p-id" name="id" value="{{id}}" required>
<label for="p-name">{{t.title}}</label><input id="p-name" name="name" value="{{name}}" required>
<label for="p-levels">{{t.levels_help}}</label><textarea id="p-levels" name="levels" rows="6" required>{{levels}}</textarea>
<label for="p-repeat">{{t.repeat_count}}</label><input id="p-repeat" name="repeat_count" type="number" min="0" value="{{repeat_count}}">
<label for="p-from">{{t.repeat_from_level}}</label><input id="p-from" name="repeat_from_level" type="number" min="1" value="{{repeat_from_level}}">
<button type="submit" id="save-policy">{{t.save}}</button>
</form>
{{/main}}{{/layout}}
"""#

    static let knowledgeBase = #"""
{{<layout}}{{$main}}
<form class="filters" method="get" action="/console/kb" role="search">
<label for="q">{{t.search}}</label><input id="q" name="q" value="{{q}}">
<button type="submit">{{t.search}}</button>
</form>
<ul class="results">{{#results}}<li><a href="/console/kb/{{id}}">{{title}}</a> <small>{{category}}</small></li>{{/results}}</ul>
{{#searched}}{{^results}}<p class="empty">{{t.no_results}}</p>{{/results}}{{/searched}}
{{#can_manage}}<form class="filters" method="get" action="/console/kb/edit">
<label for="new-id">{{t.article_id}}</label><input id="new-id" name="id" required>
<button type="submit">{{t.new_article}}</button></form>{{/can_manage}}
{{/main}}{{/layout}}
"""#

    static let article = #"""
{{<layout}}{{$main}}
<p><small>{{category}} · {{t.version}} {{version}}</small>{{#can_manage}} · <a href="/console/kb/edit?id={{id}}">{{t.edit}}</a>{{/can_manage}}</p>
<div class="article">{{{body_html}}}</div>
{{/main}}{{/layout}}
"""#

    static let articleEdit = #"""
{{<layout}}{{$main}}
<form class="card" method="post" action="/console/kb/edit"><input type="hidden" name="csrf" value="{{csrf}}">
<label for="e-id">{{t.article_id}}</label><input id="e-id" name="id" value="{{id}}" required>
<label for="e-title">{{t.title}}</label><input id="e-title" name="title" value="{{title}}" required>
<label for="e-category">{{t.category}}</label><input id="e-category" name="category" value="{{category}}" required>
<label for="e-body">{{t.body_markdown}}</label><textarea id="e-body" name="body" rows="14">{{body}}</textarea>
<button type="submit" id="save-article">{{t.save}}</button>
</form>
{{/main}}{{/layout}}
"""#

    static let cluster = #"""
{{<layout}}{{$main}}
<dl class="facts">
<dt>{{t.cluster_id}}</dt><dd>{{cluster_id}}</dd>
<dt>{{t.leader}}</dt><dd>{{leader}}</dd>
<dt>{{t.term}}</dt><dd>{{term}}</dd>
<dt>{{t.commit_index}}</dt><dd>{{commit}}</dd>
<dt>{{t.applied_index}}</dt><dd>{{applied}}</dd>
<dt>{{t.outbox_depth}}</dt><dd>{{outbox}}</dd>
<dt>{{t.certificate_expiry}}</dt><dd>{{#cert_ms}}<time data-ms="{{cert_ms}}">{{cert_iso}}</time>{{/cert_ms}}</dd>
</dl>
<table class="list"><thead><tr><th>{{t.member}}</th><th>{{t.role}}</th><th>{{t.address}}</th><th>{{t.reachability}}</th><th>{{t.match_index}}</th><th>{{t.lag}}</th><th>{{t.version}}</th></tr></thead>
<tbody>{{#members}}<tr><td>{{id}}{{#is_self}} ({{t.this_node}}){{/is_self}}</td><td>{{role_label}}</td><td>{{http}}</td><td>{{reachability}}</td><td>{{match}}</td><td>{{lag}}</td><td>{{version}}</td></tr>{{/members}}</tbody>
</table>
<h2>{{t.leader_changes}}</h2>
<table class="list" id="leader-changes"><thead><tr><th>{{t.when}}</th><th>{{t.term}}</th><th>{{t.leader}}</th></tr></thead>
<tbody>{{#leader_changes}}<tr><td><time data-ms="{{at_ms}}">{{at_iso}}</time></td><td>{{term}}</td><td>{{leader}}</td></tr>{{/leader_changes}}</tbody>
</table>
{{/main}}{{/layout}}
"""#

    static let reports = #"""
{{<layout}}{{$main}}
<form class="filters" method="get" action="/console/reports">
<label for="r-month">{{t.month}}</label><input id="r-month" type="month" name="month" value="{{month}}">
<label for="r-group">{{t.group_by}}</label><select id="r-group" name="group">{{#groups}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/groups}}</select>
<label for="r-zone">{{t.time_zone}}</label><input id="r-zone" name="time_zone" value="{{time_zone}}">
<button type="submit">{{t.show}}</button>
<a href="/console/reports.csv?{{csv_query}}&amp;format=csv" download>{{t.download_csv}}</a>
</form>
<h2>{{t.sla_attainment}}</h2>
{{{chart}}}
<table class="list" id="report"><thead><tr><th>{{t.group}}</th><th>{{t.registered_count}}</th><th>{{t.resolved_count}}</th><th>{{t.resolution_rate}}</th><th>{{t.mtta_minutes}}</th><th>{{t.mttr_minutes}}</th><th>{{t.satisfaction}}</th><th>{{t.sla_attainment}}</th><th>{{t.breaches}}</th></tr></thead>
<tbody>{{#rows}}<tr><td>{{group}}</td><td>{{registered}}</td><td>{{resolved}}</td><td>{{resolution_rate}}</td><td>{{mtta}}</td><td>{{mttr}}</td><td>{{satisfaction}}</td><td>{{attainment}}<br><small>{{#targets}}{{label}} {{percent}}; {{/targets}}</small></td><td>{{breaches}}</td></tr>{{/rows}}</tbody>
</table>
<h2>{{t.supervision_samples}}</h2>
{{^samples}}<p class="empty">{{t.none}}</p>{{/samples}}
{{#samples}}<article class="card"><h3>{{id}}</h3><p>{{t.sample_size}}: {{size}} · {{t.reviewed}}: {{reviewed}}</p>
<ul>{{#verdicts}}<li><a href="/console/tickets/{{ticket}}">#{{ticket}}</a> {{verdict}} {{note}}</li>{{/verdicts}}</ul></article>{{/samples}}
<h2>{{t.feedback}}</h2>
{{^feedback}}<p class="empty">{{t.none}}</p>{{/feedback}}
<ul>{{#feedback}}<li><a href="/console/tickets/{{id}}">#{{id}} {{title}}</a> {{rating}}/5{{#low}} <span class="clock-state breached">{{t.low_rating}}</span>{{/low}} {{comment}}</li>{{/feedback}}</ul>
{{/main}}{{/layout}}
"""#

    static let problem = #"""
{{<layout}}{{$main}}
<p><a href="/console/now">{{t.nav_now}}</a></p>
{{/main}}{{/layout}}
"""#
}
