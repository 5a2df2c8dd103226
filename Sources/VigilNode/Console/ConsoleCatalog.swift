import Foundation

/// Every string the console shows, in English and Chinese. Templates and page code name a key; `ConsoleTests`
/// checks that both languages have every key the templates use.
enum ConsoleCatalog {
    /// The languages the console speaks; the first is the default.
    enum Language: String, CaseIterable, Sendable {
        case en, zh

        var other: Language { self == .en ? .zh : .en }

        /// The first supported language in an `Accept-Language` header, by its q-values; English if none.
        static func preferred(acceptLanguage header: String?) -> Language {
            guard let header else { return .en }
            var best: (language: Language, q: Double)?
            for part in header.split(separator: ",") {
                let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let tag = fields.first?.lowercased(), !tag.isEmpty else { continue }
                var q = 1.0
                for field in fields.dropFirst() where field.hasPrefix("q=") { q = Double(field.dropFirst(2)) ?? 0 }
                let primary = tag.split(separator: "-").first.map(String.init) ?? tag
                guard let language = Language(rawValue: primary), q > 0 else { continue }
                if best == nil || q > best!.q { best = (language, q) }
            }
            return best?.language ?? .en
        }
    }

    static func messages(_ language: Language) -> [String: String] { language == .en ? en : zh }

    static let en: [String: String] = [
        "other_language": "中文", "skip_to_content": "Skip to content", "navigation": "Main",
        "nav_now": "Now", "nav_tickets": "Tickets", "nav_register": "Register a ticket", "nav_schedules": "Schedules",
        "nav_services": "Services", "nav_kb": "Knowledge base", "nav_cluster": "Cluster",
        "sign_in": "Sign in", "sign_out": "Sign out", "sign_in_password": "With your password", "sign_in_token": "Or with a personal API token",
        "person_id": "Person id", "password": "Password", "api_token": "API token", "title_set_password": "Set your console password", "new_password": "New password (10–128 bytes)", "repeat_password": "The same again", "set_password": "Set password", "password_set": "Your password is set; sign in with it.", "link_invalid": "This link is not valid: it was used, replaced, or it expired. Ask an admin for a new one.", "passwords_differ": "The two passwords differ.", "password_length": "A password has 10–128 bytes.",
        "node": "Node", "term": "term", "overdue": "overdue",
        "unacknowledged_emergencies": "Unacknowledged emergencies", "my_open_tickets": "My open tickets", "on_call": "On call",
        "on_call_now": "On call now", "until": "until", "next_7_days": "Next 7 days", "hours": "hours", "no_schedules": "No schedules yet.",
        "none": "None.", "ticket": "Ticket", "service": "Service", "registered": "Registered", "next_escalation": "Next escalation",
        "actions": "Actions", "level": "Level", "all_levels_paged": "every level paged", "acknowledge": "Acknowledge",
        "stage": "Stage", "priority": "Priority", "kind": "Kind", "owner": "Owner", "any": "Any", "breached_only": "Breached only",
        "filter": "Filter", "sla": "SLA", "breached": "breached", "customer": "Customer", "acknowledged": "Acknowledged",
        "not_yet": "not yet", "escalation": "Escalation", "escalation_stopped": "stopped", "resolve": "Resolve",
        "assign_to": "Assign to", "assign": "Assign", "move_to_stage": "Move to stage", "move": "Move", "change_priority": "Change priority",
        "waiting_for_customer": "waiting for the customer", "wait_for_customer": "Wait for the customer", "customer_replied": "The customer replied",
        "comment": "Comment", "customer_visible": "Visible to the customer", "add_comment": "Add comment",
        "initial_solution": "Initial solution", "record_solution": "Record the initial solution", "reopen_reason": "Reason to reopen",
        "reopen": "Reopen", "rating": "Rating", "rating_comment": "Customer's comment", "rate": "Record rating", "timeline": "Timeline",
        "title": "Title", "description": "Description", "suggested_articles": "Knowledge-base suggestions",
        "no_suggestions": "No suggestions yet.", "register": "Register",
        "schedule": "Schedule", "from_date": "From", "who_at": "Who is on call at", "show": "Show", "time_zone": "Time zone",
        "on_call_at": "On call at", "final_schedule": "Final schedule", "person": "Person", "start": "Start", "end": "End",
        "layers": "Layers", "overrides": "Overrides", "add_override": "Add override", "remove": "Remove",
        "team": "Team", "escalation_policy": "Escalation policy", "sla_policy": "SLA policy", "integration_keys": "Integration keys",
        "alertmanager_url": "Alertmanager webhook", "pagerduty_url": "PagerDuty Events API v2", "maintenance_windows": "Maintenance windows",
        "edit": "Edit", "policy_id": "Policy id", "levels_help": "Levels, one per line: minutes, then targets (person:ID, schedule:ID, team:ID), e.g. 5 schedule:primary, person:carol", "repeat_count": "Repeat how many times", "repeat_from_level": "Repeat from level", "title_policy_edit": "Edit escalation policy", "invalid_levels": "Line %@ is not: minutes, then targets such as person:ID", "escalation_policies": "Escalation policies", "minutes": "min", "add_maintenance_window": "Add a maintenance window",
        "reason": "Reason", "add": "Add", "add_integration_key": "Add an integration key", "integration_key": "Integration key",
        "search": "Search", "no_results": "Nothing found.", "article_id": "Article id", "category": "Category", "body_markdown": "Text (Markdown)", "save": "Save", "new_article": "New or edit article", "title_article_edit": "Edit article", "version": "version",
        "cluster_id": "Cluster", "leader": "Leader", "commit_index": "Commit index", "applied_index": "Applied index",
        "outbox_depth": "Pages in the outbox", "certificate_expiry": "Certificate expires", "member": "Member", "role": "Role",
        "address": "Address", "reachability": "Reachability", "match_index": "Match index", "lag": "Lag", "this_node": "this node", "leader_changes": "Recent leader changes (seen by this node)", "when": "When",
        // Page titles.
        "nav_reports": "Reports", "title_reports": "Reports", "month": "Month", "group_by": "Per", "group": "Group",
        "group_overall": "everyone", "group_team": "team", "group_person": "person", "download_csv": "Download CSV",
        "registered_count": "Registered", "resolved_count": "Resolved", "resolution_rate": "Resolution rate",
        "mtta_minutes": "MTTA (min)", "mttr_minutes": "MTTR (min)", "satisfaction": "Satisfaction", "sla_attainment": "SLA attainment",
        "breaches": "Breaches", "supervision_samples": "Supervision samples", "sample_size": "Tickets drawn", "reviewed": "Reviewed",
        "feedback": "Customer feedback", "low_rating": "follow-up",
        "verdict_compliant": "compliant", "verdict_needsImprovement": "needs improvement", "verdict_nonCompliant": "not compliant",
        "title_sign_in": "Sign in", "title_now": "Now", "title_tickets": "Tickets", "title_new_ticket": "Register a ticket",
        "title_schedules": "Schedules", "title_services": "Services and escalation", "title_service_edit": "Edit service",
        "title_kb": "Knowledge base", "title_cluster": "Cluster", "title_problem": "Something is wrong",
        "tickets_shown": "%d tickets shown",
        // Enumerations.
        "stage_registered": "registered", "stage_analysing": "analysing", "stage_handling": "handling", "stage_feedback": "feedback",
        "stage_archived": "archived",
        "kind_consultation": "consultation", "kind_complaint": "complaint", "kind_suggestion": "suggestion", "kind_emergency": "emergency",
        "kind_incident": "incident",
        "role_viewer": "viewer", "role_responder": "responder", "role_manager": "manager", "role_admin": "admin",
        "role_leader": "leader", "role_follower": "follower", "role_candidate": "candidate", "role_learner": "learner",
        "target_firstResponse": "First response", "target_initialSolution": "Initial solution", "target_updateInterval": "Update",
        "target_resolution": "Resolution",
        "clock_paused": "paused", "clock_met": "met", "clock_missed": "missed",
        // Timeline.
        "tl_registered": "registered the ticket", "tl_stage": "moved it to", "tl_reopened": "reopened it", "tl_acknowledged": "acknowledged",
        "tl_owner": "assigned it to", "tl_note": "commented", "tl_note_customer": "replied to the customer",
        "tl_initial_solution": "gave the initial solution", "tl_waiting_on": "is waiting for the customer",
        "tl_waiting_off": "stopped waiting for the customer", "tl_sla_warning": "SLA warning", "tl_sla_breached": "SLA breached",
        "tl_escalated": "paged level", "tl_alert_triggered": "alert triggered", "tl_alert_acknowledged": "alert acknowledged",
        "tl_alert_resolved": "alert resolved", "tl_articles": "suggested articles", "tl_feedback": "rated it",
        "tl_follow_up_opened": "opened a follow-up", "tl_follow_up_of": "follows up", "tl_priority": "changed the priority to",
        "tl_paged": "page", "tl_pages_cancelled": "pages cancelled", "tl_ack_expired": "acknowledgement expired, paging resumes",
        "tl_alert_details": "alert details",
        "tl_customer_message": "the customer wrote:",
        "tl_attachments": "attachments",
        "tl_customer_mailed": "mailed the customer:",
        "mail_acknowledgement": "acknowledgement",
        "mail_reply": "reply",
        "mail_satisfaction": "satisfaction survey",
        // Messages.
        "done": "Done.", "signed_out": "Signed out.", "sign_in_failed": "The person id and password, or the token, are not valid.",
        "sign_in_limited": "Too many failed sign-ins; wait a minute and try again.", "csrf_failed": "The form has expired; reload the page and try again.",
        "cross_site": "A request from another site was refused.", "forbidden": "Your role does not allow this.",
        "not_found": "Not found.", "unavailable": "The cluster cannot take this now (no leader?); try again.",
        "registered_ticket": "Registered ticket #%d.", "invalid_input": "Check the form: %@",
    ]

    static let zh: [String: String] = [
        "other_language": "English", "skip_to_content": "跳到正文", "navigation": "主导航",
        "nav_now": "当前", "nav_tickets": "工单", "nav_register": "登记工单", "nav_schedules": "值班表",
        "nav_services": "服务", "nav_kb": "知识库", "nav_cluster": "集群",
        "sign_in": "登录", "sign_out": "退出", "sign_in_password": "使用密码", "sign_in_token": "或使用个人 API 令牌",
        "person_id": "人员编号", "password": "密码", "api_token": "API 令牌", "title_set_password": "设置控制台密码", "new_password": "新密码（10–128 字节）", "repeat_password": "再输入一次", "set_password": "设置密码", "password_set": "密码已设置，请登录。", "link_invalid": "此链接无效：已使用、已被替换或已过期。请向管理员索取新链接。", "passwords_differ": "两次输入的密码不一致。", "password_length": "密码长度为 10–128 字节。",
        "node": "节点", "term": "任期", "overdue": "已超时",
        "unacknowledged_emergencies": "未确认的紧急事件", "my_open_tickets": "我的未结工单", "on_call": "值班",
        "on_call_now": "当前值班", "until": "至", "next_7_days": "未来 7 天", "hours": "小时", "no_schedules": "尚无值班表。",
        "none": "无。", "ticket": "工单", "service": "服务", "registered": "登记时间", "next_escalation": "下一级升级",
        "actions": "操作", "level": "级别", "all_levels_paged": "各级均已通知", "acknowledge": "确认",
        "stage": "阶段", "priority": "优先级", "kind": "类型", "owner": "负责人", "any": "全部", "breached_only": "仅显示已超时",
        "filter": "筛选", "sla": "服务时限", "breached": "已超时", "customer": "客户", "acknowledged": "确认时间",
        "not_yet": "尚未确认", "escalation": "升级", "escalation_stopped": "已停止", "resolve": "解决",
        "assign_to": "指派给", "assign": "指派", "move_to_stage": "转到阶段", "move": "转交", "change_priority": "修改优先级",
        "waiting_for_customer": "等待客户回复", "wait_for_customer": "等待客户", "customer_replied": "客户已回复",
        "comment": "备注", "customer_visible": "客户可见", "add_comment": "添加备注",
        "initial_solution": "初步解决方案", "record_solution": "记录初步解决方案", "reopen_reason": "重新打开的原因",
        "reopen": "重新打开", "rating": "评分", "rating_comment": "客户意见", "rate": "记录评分", "timeline": "处理记录",
        "title": "标题", "description": "描述", "suggested_articles": "知识库推荐",
        "no_suggestions": "暂无推荐。", "register": "登记",
        "schedule": "值班表", "from_date": "起始日期", "who_at": "查询值班时间", "show": "显示", "time_zone": "时区",
        "on_call_at": "值班人", "final_schedule": "最终值班安排", "person": "人员", "start": "开始", "end": "结束",
        "layers": "轮值层", "overrides": "临时替班", "add_override": "添加替班", "remove": "删除",
        "team": "团队", "escalation_policy": "升级策略", "sla_policy": "服务时限策略", "integration_keys": "集成密钥",
        "alertmanager_url": "Alertmanager 回调地址", "pagerduty_url": "PagerDuty 事件 API v2", "maintenance_windows": "维护窗口",
        "edit": "编辑", "policy_id": "策略编号", "levels_help": "每行一级：分钟数，然后是通知对象（person:编号、schedule:编号、team:编号），例如 5 schedule:primary, person:carol", "repeat_count": "重复次数", "repeat_from_level": "从第几级开始重复", "title_policy_edit": "编辑升级策略", "invalid_levels": "第 %@ 行格式应为：分钟数，然后是通知对象，例如 person:编号", "escalation_policies": "升级策略", "minutes": "分钟", "add_maintenance_window": "添加维护窗口",
        "reason": "原因", "add": "添加", "add_integration_key": "添加集成密钥", "integration_key": "集成密钥",
        "search": "搜索", "no_results": "未找到。", "article_id": "文章编号", "category": "分类", "body_markdown": "正文（Markdown）", "save": "保存", "new_article": "新建或编辑文章", "title_article_edit": "编辑文章", "version": "版本",
        "cluster_id": "集群", "leader": "领导者", "commit_index": "提交索引", "applied_index": "应用索引",
        "outbox_depth": "待发通知", "certificate_expiry": "证书到期", "member": "成员", "role": "角色",
        "address": "地址", "reachability": "连通性", "match_index": "匹配索引", "lag": "落后", "this_node": "本节点", "leader_changes": "最近的领导者变更（本节点所见）", "when": "时间",
        "nav_reports": "报表", "title_reports": "报表", "month": "月份", "group_by": "按", "group": "分组",
        "group_overall": "全部", "group_team": "团队", "group_person": "人员", "download_csv": "下载 CSV",
        "registered_count": "登记数", "resolved_count": "解决数", "resolution_rate": "解决率",
        "mtta_minutes": "平均确认时间（分钟）", "mttr_minutes": "平均解决时间（分钟）", "satisfaction": "满意度", "sla_attainment": "服务时限达成率",
        "breaches": "超时次数", "supervision_samples": "抽检", "sample_size": "抽取工单", "reviewed": "已评审",
        "feedback": "客户反馈", "low_rating": "需跟进",
        "verdict_compliant": "合规", "verdict_needsImprovement": "需改进", "verdict_nonCompliant": "不合规",
        "title_sign_in": "登录", "title_now": "当前", "title_tickets": "工单", "title_new_ticket": "登记工单",
        "title_schedules": "值班表", "title_services": "服务与升级", "title_service_edit": "编辑服务",
        "title_kb": "知识库", "title_cluster": "集群", "title_problem": "出现问题",
        "tickets_shown": "显示 %d 个工单",
        "stage_registered": "已登记", "stage_analysing": "分析中", "stage_handling": "处理中", "stage_feedback": "待回访",
        "stage_archived": "已归档",
        "kind_consultation": "咨询", "kind_complaint": "投诉", "kind_suggestion": "建议", "kind_emergency": "紧急事件",
        "kind_incident": "监控事件",
        "role_viewer": "查看者", "role_responder": "值班人员", "role_manager": "经理", "role_admin": "管理员",
        "role_leader": "领导者", "role_follower": "跟随者", "role_candidate": "候选者", "role_learner": "学习者",
        "target_firstResponse": "首次响应", "target_initialSolution": "初步解决", "target_updateInterval": "进展通报",
        "target_resolution": "解决",
        "clock_paused": "已暂停", "clock_met": "已达成", "clock_missed": "未达成",
        "tl_registered": "登记了工单", "tl_stage": "转到", "tl_reopened": "重新打开", "tl_acknowledged": "已确认",
        "tl_owner": "指派给", "tl_note": "添加备注", "tl_note_customer": "回复客户",
        "tl_initial_solution": "给出初步解决方案", "tl_waiting_on": "等待客户回复",
        "tl_waiting_off": "不再等待客户", "tl_sla_warning": "服务时限预警", "tl_sla_breached": "服务时限超时",
        "tl_escalated": "通知级别", "tl_alert_triggered": "告警触发", "tl_alert_acknowledged": "告警已确认",
        "tl_alert_resolved": "告警已恢复", "tl_articles": "推荐文章", "tl_feedback": "评分",
        "tl_follow_up_opened": "开启跟进工单", "tl_follow_up_of": "跟进", "tl_priority": "修改优先级为",
        "tl_paged": "通知", "tl_pages_cancelled": "已取消通知", "tl_ack_expired": "确认已过期，恢复通知",
        "tl_alert_details": "告警详情",
        "tl_customer_message": "客户来信：",
        "tl_attachments": "附件",
        "tl_customer_mailed": "已发邮件给客户：",
        "mail_acknowledgement": "受理回执",
        "mail_reply": "回复",
        "mail_satisfaction": "满意度调查",
        "done": "已完成。", "signed_out": "已退出。", "sign_in_failed": "人员编号与密码或令牌无效。",
        "sign_in_limited": "登录失败次数过多，请一分钟后再试。", "csrf_failed": "表单已过期，请刷新页面后重试。",
        "cross_site": "已拒绝来自其他网站的请求。", "forbidden": "您的角色无权执行此操作。",
        "not_found": "未找到。", "unavailable": "集群暂时无法处理（没有领导者？），请重试。",
        "registered_ticket": "已登记工单 #%d。", "invalid_input": "请检查表单：%@",
    ]
}
