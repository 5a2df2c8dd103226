"""Customers' e-mail through the SMTP intake of a live 3-node TLS cluster (Tests/smtp/run.sh).

Environment: VIGIL_BASE_PORT (node n answers HTTPS on base+100+n and SMTP on base+200+n), VIGIL_CA, VIGIL_TOKEN
(admin), VIGIL_WORK (the cluster's directory: c/nodeN/vigil.yaml, pids), VIGIL_BINARY. Every wait is bounded.
"""
import email.utils
import os
import re
import signal
import smtplib
import ssl
import subprocess
import threading
import time
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.application import MIMEApplication

import pytest
import requests
from aiosmtpd.controller import Controller

BASE = int(os.environ["VIGIL_BASE_PORT"])
CA = os.environ["VIGIL_CA"]
TOKEN = os.environ["VIGIL_TOKEN"]
WORK = os.environ["VIGIL_WORK"]
BINARY = os.environ["VIGIL_BINARY"]


class Relay:
    """The SMTP relay the nodes send customers' mail through (paging.smtp in Tests/smtp/run.sh): keeps every message."""

    def __init__(self):
        self.messages = []
        self.times = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
            self.times.append(time.time())
        return "250 OK"

    def wait_for(self, predicate, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            with self.lock:
                found = [m for _, to, m in self.messages if predicate(to, m)]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError("no such message reached the relay within %d s" % seconds)


RELAY = Relay()


@pytest.fixture(scope="session", autouse=True)
def relay():
    controller = Controller(RELAY, hostname="127.0.0.1", port=BASE + 250)
    controller.start()
    yield RELAY
    controller.stop()


def body_of(message):
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def url(node, path=""):
    return f"https://127.0.0.1:{BASE + 100 + node}{path}"


def api(node, method, path, expect=(200, 201, 202), body=None, token=TOKEN):
    response = requests.request(method, url(node, path), json=body, verify=CA, timeout=15, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def leader():
    for _ in range(120):
        for node in (1, 2, 3):
            try:
                found = requests.get(url(node, "/api/v1/cluster"), verify=CA, timeout=3).json().get("leader")
            except (requests.RequestException, ValueError):
                continue
            if found:
                return found
        time.sleep(0.5)
    raise AssertionError("no leader within 60 s")


def follower():
    return 1 if leader() != 1 else 2


def new_id(tag):
    return email.utils.make_msgid(idstring=tag, domain="client.example")


def plain(subject, body, sender="Wang Li <wang.li@example.cn>", message_id=None, **headers):
    message = MIMEText(body, "plain", "utf-8")
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "support@example.com"
    message["Message-ID"] = message_id or new_id("t")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def send(node, message, sender="wang.li@example.cn", recipients=("support@example.com",), tls=False):
    """Sends one message; returns (code, reply text) of the end of DATA (or of the first refusal)."""
    with smtplib.SMTP("127.0.0.1", BASE + 200 + node, timeout=30) as client:
        client.ehlo("client.example")
        if tls:
            context = ssl.create_default_context(cafile=CA)
            context.check_hostname = False
            client.starttls(context=context)
            client.ehlo("client.example")
        code, reply = client.mail(sender)
        if code != 250:
            return code, reply.decode()
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                return code, reply.decode()
        data = message if isinstance(message, bytes) else message.as_bytes()
        code, reply = client.data(data)
        return code, reply.decode()


def ticket_of(reply):
    match = re.search(r"ticket (\d+)", reply)
    assert match, f"no ticket in reply {reply!r}"
    return int(match.group(1))


def messages_on(ticket):
    timeline = api(leader(), "GET", f"/api/v1/tickets/{ticket}")["timeline"]
    return [entry["action"]["customer_message"] for entry in timeline if "customer_message" in entry["action"]]


def test_a_plain_message_to_a_follower_opens_a_ticket_for_a_new_customer():
    code, reply = send(follower(), plain("Cannot log in", "My password is refused since this morning."))
    assert code == 250, reply
    ticket = api(leader(), "GET", f"/api/v1/tickets/{ticket_of(reply)}")
    assert ticket["title"] == "Cannot log in"
    assert ticket["kind"] == "consultation" and ticket["priority"] == "P3" and ticket["service_id"] == "web"
    [message] = messages_on(ticket["id"])
    assert message["text"] == "My password is refused since this morning."
    customer = api(leader(), "GET", f"/api/v1/customers/{ticket['customer_id']}")
    # S16: the address is contact data, shown only on the audited route.
    assert customer["name"] == "Wang Li" and customer["address_count"] == 1 and "email_addresses" not in customer
    # Read as carol, a manager in deploy/examples/oncall.yaml: the audit names a person.
    carol = api(leader(), "POST", "/api/v1/tokens", body={"name": f"smtp-carol-{time.time_ns()}", "role": "manager", "person_id": "carol"})["token"]
    contact = api(leader(), "GET", f"/api/v1/customers/{ticket['customer_id']}/contact?reason=call%20back", token=carol)
    assert contact["email_addresses"] == ["wang.li@example.cn"]


def test_starttls_and_a_gbk_chinese_subject_and_body():
    message = MIMEText("服务器宕机了，请尽快处理。", "plain", "gbk")
    message["Subject"] = Header("服务器宕机了", "gbk")
    message["From"] = "=?gbk?b?" + __import__("base64").b64encode("张伟".encode("gbk")).decode() + "?= <zhang.wei@example.cn>"
    message["Message-ID"] = new_id("gbk")
    assert b"gbk" in message.as_bytes().lower()
    code, reply = send(leader(), message, sender="zhang.wei@example.cn", tls=True)
    assert code == 250, reply
    ticket = api(leader(), "GET", f"/api/v1/tickets/{ticket_of(reply)}")
    assert ticket["title"] == "服务器宕机了"
    assert messages_on(ticket["id"])[0]["text"] == "服务器宕机了，请尽快处理。"
    customer = api(leader(), "GET", f"/api/v1/customers/{ticket['customer_id']}")
    assert customer["name"] == "张伟" and customer["language"] == "zh"


def test_a_gb18030_body_with_a_four_byte_character():
    message = MIMEText("退款单号 𠮷 123", "plain", "gb18030")
    message["Subject"] = "Refund"
    message["From"] = "li.na@example.cn"
    message["Message-ID"] = new_id("gb18030")
    code, reply = send(follower(), message, sender="li.na@example.cn")
    assert code == 250, reply
    assert messages_on(ticket_of(reply))[0]["text"] == "退款单号 𠮷 123"


def test_an_html_only_message_is_reduced_to_text_and_attachments_are_recorded_by_name_and_size():
    outer = MIMEMultipart("mixed")
    outer["Subject"] = "=?utf-8?q?Order_=E2=84=96_42_missing?="
    outer["From"] = "shop@example.org"
    outer["Message-ID"] = new_id("html")
    outer.attach(MIMEText("<html><head><style>p{}</style></head><body><p>Order <b>42</b> &amp; 43</p>"
                          "<script>alert(1)</script><p>Thanks</p></body></html>", "html", "utf-8"))
    outer.attach(MIMEApplication(b"%PDF-" + b"x" * 995, Name="invoice.pdf"))
    code, reply = send(leader(), outer, sender="shop@example.org")
    assert code == 250, reply
    ticket = ticket_of(reply)
    assert api(leader(), "GET", f"/api/v1/tickets/{ticket}")["title"] == "Order № 42 missing"
    [message] = messages_on(ticket)
    assert "Order 42 & 43" in message["text"] and "Thanks" in message["text"]
    assert "<" not in message["text"] and "alert" not in message["text"]
    assert message["attachments"] == [{"file_name": "invoice.pdf", "content_type": "application/octet-stream", "byte_count": 1000}]


def test_a_reply_threads_onto_its_ticket_by_message_id_and_by_subject_tag():
    first_id = new_id("thread")
    code, reply = send(follower(), plain("VPN drops", "Every ten minutes.", sender="ops@acme.example", message_id=first_id),
                       sender="ops@acme.example")
    assert code == 250, reply
    ticket = ticket_of(reply)
    answer = plain("Re: VPN drops", "Still happening.", sender="ops@acme.example", In_Reply_To=first_id, References=first_id)
    code, reply = send(leader(), answer, sender="ops@acme.example")
    assert code == 250 and ticket_of(reply) == ticket, reply
    tagged = plain(f"Re: [#{ticket}] VPN drops", "Logs attached later.", sender="OPS@ACME.example")
    code, reply = send(follower(), tagged, sender="ops@acme.example")
    assert code == 250 and ticket_of(reply) == ticket, reply
    assert [m["text"] for m in messages_on(ticket)] == ["Every ten minutes.", "Still happening.", "Logs attached later."]
    # Someone else quoting the thread opens their own ticket.
    stranger = plain(f"Re: [#{ticket}] VPN drops", "Me too.", sender="eve@example.net", In_Reply_To=first_id)
    code, reply = send(leader(), stranger, sender="eve@example.net")
    assert code == 250 and ticket_of(reply) != ticket, reply


def test_the_same_message_sent_twice_is_recorded_once():
    message = plain("Twice", "Sent twice.", sender="twice@example.org")
    code, reply = send(leader(), message, sender="twice@example.org")
    assert code == 250, reply
    code, again = send(follower(), message, sender="twice@example.org")
    assert code == 250 and "already recorded" in again and ticket_of(again) == ticket_of(reply)
    assert len(messages_on(ticket_of(reply))) == 1


def next_ticket():
    code, reply = send(leader(), plain("Marker", "marker"), sender="marker@example.org")
    assert code == 250, reply
    return ticket_of(reply)


@pytest.mark.parametrize("headers,envelope_sender", [
    ({"Auto_Submitted": "auto-replied"}, "away@example.org"),
    ({"Precedence": "bulk"}, "list@example.org"),
    ({}, ""),
])
def test_auto_replies_and_bounces_open_nothing(headers, envelope_sender):
    before = next_ticket()
    message = plain("Out of office", "I am away until Monday.", sender="away@example.org", **headers)
    code, reply = send(follower(), message, sender=envelope_sender)
    assert code == 250 and "opens no ticket" in reply, reply
    assert next_ticket() == before + 1


def test_a_delivery_status_report_opens_nothing():
    before = next_ticket()
    report = (b"From: MAILER-DAEMON@mx.example\r\nTo: support@example.com\r\nSubject: Undelivered Mail\r\n"
              b"Message-ID: <bounce1@mx.example>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
              b"--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
              b"--b1\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b1--\r\n")
    code, reply = send(leader(), report, sender="postmaster@mx.example")
    assert code == 250 and "opens no ticket" in reply, reply
    assert next_ticket() == before + 1


def test_an_oversized_message_is_refused_with_552_and_an_unknown_mailbox_with_550():
    big = plain("Huge", "x" * 300_000, sender="big@example.org")
    code, reply = send(leader(), big, sender="big@example.org")
    assert code == 552, reply
    with smtplib.SMTP("127.0.0.1", BASE + 200 + leader(), timeout=30) as client:
        client.ehlo("client.example")
        assert client.mail("big@example.org", options=["SIZE=400000"])[0] == 552
        assert client.mail("big@example.org")[0] == 250
        assert client.rcpt("nobody@example.com")[0] == 550
    code, reply = send(follower(), plain("Fine", "small"), sender="big@example.org")
    assert code == 250, reply


def test_every_message_answered_250_survives_a_kill_9_of_the_leader():
    """Senders keep writing to all three nodes; the leader is killed with -9 a few messages in. A sender that gets a
    4xx or loses the connection retries (as an MTA does), bounded; every message answered 250 must be on a ticket."""
    pids = [int(line) for line in open(os.path.join(WORK, "pids")).read().split()]
    victim = leader()
    accepted = {}  # Message-ID -> ticket
    lock = threading.Lock()
    deadline = time.time() + 120

    def sender(worker):
        for index in range(12):
            message_id = new_id(f"kill{worker}-{index}")
            message = plain(f"Storm {worker}-{index}", f"body {worker}-{index}", sender=f"storm{worker}@example.org",
                            message_id=message_id)
            for attempt in range(200):
                if time.time() > deadline:
                    return
                node = (worker + index + attempt) % 3 + 1
                try:
                    code, reply = send(node, message, sender=f"storm{worker}@example.org")
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.2)
                    continue
                if code == 250:
                    with lock:
                        accepted[message_id.strip("<>")] = ticket_of(reply)
                    break
                assert 400 <= code < 500, f"{code} {reply}"
                time.sleep(0.2)

    threads = [threading.Thread(target=sender, args=(worker,)) for worker in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(300):
        if len(accepted) >= 5:
            break
        time.sleep(0.05)
    os.kill(pids[victim - 1], signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=150)
    config = os.path.join(WORK, "c", f"node{victim}", "vigil.yaml")
    restarted = subprocess.Popen([BINARY, "start", "--config", config], stdout=open(os.path.join(WORK, f"node{victim}.restart.log"), "w"),
                                 stderr=subprocess.STDOUT)
    with open(os.path.join(WORK, "restarted.pids"), "a") as file:
        file.write(f"{restarted.pid}\n")
    assert len(accepted) == 36, f"only {len(accepted)} of 36 messages were accepted within the time"
    for message_id, ticket in accepted.items():
        assert message_id in [m["message_id"] for m in messages_on(ticket)], f"{message_id} is not on ticket {ticket}"
    # The restarted node catches up and has every ticket too.
    ready = False
    for _ in range(120):
        try:
            ready = requests.get(url(victim, "/readyz"), verify=CA, timeout=3).status_code == 200
        except requests.RequestException:
            pass
        if ready or restarted.poll() is not None:
            break
        time.sleep(0.5)
    assert ready, f"the restarted node is not ready (exit {restarted.poll()}); see node{victim}.restart.log"
    for ticket in set(accepted.values()):
        assert api(victim, "GET", f"/api/v1/tickets/{ticket}?consistency=local")["id"] == ticket
    # The restarted node takes mail again once it has heard every member's release (until then it answers 451).
    for attempt in range(120):
        code, reply = send(victim, plain("After restart", "hello", sender="after@example.org"), sender="after@example.org")
        if code == 250:
            break
        assert code == 451, reply
        time.sleep(0.5)
    assert code == 250, reply


def test_the_customer_is_acknowledged_answered_in_thread_and_asked_to_rate(relay):
    """S2 and S13 from the customer's side: the acknowledgement with the ticket number and the promised times in
    their language, a staff comment mailed in the thread, their reply to it joining the ticket, and at the feedback
    stage a signed link whose page takes the rating (2 opens a follow-up)."""
    first = new_id("loop")
    code, reply = send(follower(), plain("打印机无法连接", "办公室的打印机无法连接网络。", sender="Mei <mei@example.cn>", message_id=first),
                       sender="mei@example.cn")
    assert code == 250, reply
    ticket = ticket_of(reply)
    [ack] = relay.wait_for(lambda to, m: to == ["mei@example.cn"] and f"[#{ticket}]" in str(email.header.make_header(email.header.decode_header(m["Subject"]))))
    assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == first and ack["From"].endswith("<support@example.com>")
    text = body_of(ack)
    assert f"工单 #{ticket}" in text and "首次响应" in text and "5 分钟内" in text, text

    api(leader(), "POST", f"/api/v1/tickets/{ticket}/comment", body={"text": "请重启打印机后再试。", "customer_visible": True})
    [answer] = relay.wait_for(lambda to, m: to == ["mei@example.cn"] and m["Message-ID"].startswith("<vigil.mail.reply."))
    assert body_of(answer).startswith("请重启打印机后再试。") and answer["In-Reply-To"] == first and "Auto-Submitted" not in answer
    again = plain(f"Re: {answer['Subject']}", "重启后可以了，谢谢。", sender="mei@example.cn", In_Reply_To=answer["Message-ID"])
    code, reply = send(leader(), again, sender="mei@example.cn")
    assert code == 250 and ticket_of(reply) == ticket, reply

    api(leader(), "POST", f"/api/v1/tickets/{ticket}/assign", body={"owner_id": "bob"})
    for stage in ("analysing", "handling", "feedback"):
        api(leader(), "POST", f"/api/v1/tickets/{ticket}/transition", body={"stage": stage})
    [survey] = relay.wait_for(lambda to, m: to == ["mei@example.cn"] and m["Message-ID"].startswith("<vigil.mail.satisfaction."))
    link = re.search(r"https://\S+/feedback/\S+", body_of(survey)).group(0)
    page = requests.get(link, verify=CA, timeout=10)
    assert page.status_code == 200 and 'name="rating"' in page.text and "请评价工单" in page.text
    # The survey link is not an acknowledgement link, nor the other way round.
    assert requests.post(link.replace("/feedback/", "/ack/"), verify=CA, timeout=10).status_code == 404
    rated = requests.post(link, data={"rating": "2", "comment": "等了太久"}, verify=CA, timeout=10)
    assert rated.status_code == 200, rated.text
    assert requests.post(link, data={"rating": "5"}, verify=CA, timeout=10).status_code == 409
    state = api(leader(), "GET", f"/api/v1/tickets/{ticket}")
    assert state["feedback"]["rating"] == 2 and state["feedback"]["comment"] == "等了太久" and state.get("follow_up_ticket_id")
    mailed = [e["action"]["customer_mailed"] for e in state["timeline"] if "customer_mailed" in e["action"]]
    assert sorted(m["purpose"] for m in mailed) == ["acknowledgement", "reply", "satisfaction"]
    assert all(m["result"] == "delivered" for m in mailed)
    # One message per outbox key, each once.
    with relay.lock:
        ids = [m["Message-ID"] for _, _, m in relay.messages if m["X-Vigil-Ticket"] == str(ticket)]
    assert len(ids) == 3 and len(set(ids)) == 3, ids


def test_sla_warning_and_breach_notices_reach_the_owner_and_the_manager_on_time_and_once(relay):
    """S5 for a customer's ticket: a 60 s first-response target (the shortest a policy takes) warns the owner at 15 s
    and, unanswered, tells the owner and the team's manager (carol, of `ops` behind `web`) at 60 s, each once."""
    stamp = time.time_ns()
    api(leader(), "PUT", "/api/v1/sla-policies/fast", body={
        "id": "fast", "name": "Fast contract", "warning_threshold_percent": 25,
        "rules": [{"priority": "P3", "target": "firstResponse", "target_seconds": 60, "clock_mode": "calendarTime"}]})
    owner = f"owner{stamp % 100000}"
    api(leader(), "PUT", f"/api/v1/people/{owner}", body={
        "id": owner, "name": "SLA Owner", "role": "responder",
        "contact_methods": [{"id": "mail", "kind": "email", "address": f"{owner}@example.org"}],
        "notification_rules": [{"contact_method_id": "mail", "delay_minutes": 0}]})
    carol = api(leader(), "GET", "/api/v1/people/carol")
    carol.update({"contact_methods": [{"id": "mail", "kind": "email", "address": "carol@example.org"}],
                  "notification_rules": [{"contact_method_id": "mail", "delay_minutes": 0}]})
    api(leader(), "PUT", "/api/v1/people/carol", body=carol)
    api(leader(), "PUT", "/api/v1/customers/fastco", body={"id": "fastco", "name": "Fast Co", "email_addresses": ["help@fast.example"],
                                                          "sla_policy_id": "fast"})
    registered = time.time()
    code, reply = send(follower(), plain("Need an answer fast", "Please call.", sender="help@fast.example"), sender="help@fast.example")
    assert code == 250, reply
    ticket = ticket_of(reply)
    api(leader(), "POST", f"/api/v1/tickets/{ticket}/assign", body={"owner_id": owner})

    def notices(to, kind):
        with relay.lock:
            return [(m, t) for (_, rcpt, m), t in zip(relay.messages, relay.times) if rcpt == [to] and f"SLA {kind}" in m["Subject"]
                    and m["X-Vigil-Ticket"] == str(ticket)]

    relay.wait_for(lambda to, m: to == [f"{owner}@example.org"] and "SLA warning" in m["Subject"] and m["X-Vigil-Ticket"] == str(ticket))
    relay.wait_for(lambda to, m: to == [f"{owner}@example.org"] and "SLA breach" in m["Subject"] and m["X-Vigil-Ticket"] == str(ticket),
                   seconds=90)
    relay.wait_for(lambda to, m: to == ["carol@example.org"] and "SLA breach" in m["Subject"] and m["X-Vigil-Ticket"] == str(ticket))
    time.sleep(3)  # anything sent twice would have arrived by now
    [(warning, warned_at)] = notices(f"{owner}@example.org", "warning")
    [(breach, breached_at)] = notices(f"{owner}@example.org", "breach")
    [(manager_breach, _)] = notices("carol@example.org", "breach")
    assert notices("carol@example.org", "warning") == []
    # On time: the warning at half the target, the breach at the target, each within the scheduler's reaction.
    assert 14.5 <= warned_at - registered <= 21, warned_at - registered
    assert 59.5 <= breached_at - registered <= 66, breached_at - registered
    assert "Need an answer fast" in str(email.header.make_header(email.header.decode_header(breach["Subject"])))


def test_an_sla_policy_change_is_announced_in_writing_to_subscribed_customers(relay):
    """S14: customers and people who asked for announcements receive each SLA policy change; others do not."""
    api(leader(), "PUT", "/api/v1/people/reader", body={
        "id": "reader", "name": "Policy Reader", "role": "viewer", "announcements": True,
        "contact_methods": [{"id": "mail", "kind": "email", "address": "reader@example.org"}],
        "notification_rules": [{"contact_method_id": "mail", "delay_minutes": 0}]})
    api(leader(), "PUT", "/api/v1/customers/news", body={"id": "news", "name": "News Reader", "language": "en",
                                                        "email_addresses": ["news@example.org"], "announcements": True})
    api(leader(), "PUT", "/api/v1/customers/quiet", body={"id": "quiet", "name": "Quiet", "email_addresses": ["quiet@example.org"]})
    api(leader(), "PUT", "/api/v1/sla-policies/contract-b", body={
        "id": "contract-b", "name": "Contract B", "warning_threshold_percent": 80,
        "rules": [{"priority": "P2", "target": "firstResponse", "target_seconds": 600, "clock_mode": "calendarTime"}]})
    [notice] = relay.wait_for(lambda to, m: to == ["news@example.org"] and "Contract B" in body_of(m))
    assert notice["Subject"] == "A change to our service policy" and notice["Auto-Submitted"] == "auto-generated"
    assert "version 1" in body_of(notice)
    [page] = relay.wait_for(lambda to, m: to == ["reader@example.org"])
    subject = str(email.header.make_header(email.header.decode_header(page["Subject"])))
    assert "Policy change" in subject and "Contract B" in subject and "version 1" in subject, subject
    time.sleep(2)
    with relay.lock:
        assert not [m for _, to, m in relay.messages if to == ["quiet@example.org"]]
        assert len([m for _, to, m in relay.messages if to == ["reader@example.org"]]) == 1


def test_a_hand_off_reminder_reaches_the_person_before_their_shift_once(relay):
    """S9: a schedule with a one-minute reminder lead; an override puts a person on call 75 s from now; their e-mail
    reminder arrives a minute before the shift starts, once."""
    stamp = time.time_ns() % 100000
    person = f"handoff{stamp}"
    api(leader(), "PUT", f"/api/v1/people/{person}", body={
        "id": person, "name": "Hand-off", "role": "responder", "time_zone_identifier": "Asia/Shanghai",
        "contact_methods": [{"id": "mail", "kind": "email", "address": f"{person}@example.org"}],
        "notification_rules": [{"contact_method_id": "mail", "delay_minutes": 0}]})
    start_ms = (int(time.time()) + 75) * 1000
    api(leader(), "PUT", f"/api/v1/schedules/{person}", body={
        "id": person, "name": "Night desk", "time_zone_identifier": "Asia/Shanghai", "handoff_reminder_minutes": 1,
        "layers": [{"name": "base", "user_ids": ["alice"], "rotation": "weekly", "start_date": {"year": 2026, "month": 1, "day": 5}, "handoff_minute": 540}],
        "overrides": [{"person_id": person, "start": start_ms, "end": start_ms + 3_600_000}]})
    [reminder] = relay.wait_for(lambda to, m: to == [f"{person}@example.org"], seconds=90)
    with relay.lock:
        arrived = [t for (_, to, _), t in zip(relay.messages, relay.times) if to == [f"{person}@example.org"]]
    subject = str(email.header.make_header(email.header.decode_header(reminder["Subject"])))
    assert "Night desk" in subject and "hand-off" in subject.lower(), subject
    due = start_ms / 1000 - 60
    assert due - 0.5 <= arrived[0] <= due + 6, arrived[0] - due
    time.sleep(3)
    with relay.lock:
        assert len([1 for _, to, _ in relay.messages if to == [f"{person}@example.org"]]) == 1
