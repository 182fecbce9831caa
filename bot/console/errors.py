"""The console's error pages, in Chinese: a staff member who follows an old link or lacks
the role for a page reads what happened and where to go, not "404 not found"."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import http_error_line

MESSAGES = {
    400: "请求有误，请返回上一页检查后重试。",
    403: "您的账号没有权限打开这个页面，如需要请联系管理员。",
    404: "没有找到这个页面，可能链接已过期或输入有误。",
    405: "不支持这样打开这个页面，请从菜单进入。",
    413: "提交的内容太大，请删减后重试。",
    429: "操作太频繁，请稍后再试。",
    500: "系统出了点问题，请稍后再试；问题持续时请联系管理员。",
}


def init_app(app) -> None:
    """Errors of console pages (under /admin) as a page in Chinese; others stay one plain
    line (the webhook's and the health check's callers are programs)."""
    plain = app.error_handler_spec[None][None].get(HTTPException)

    def page(error: HTTPException):
        if not request.path.startswith("/admin"):
            return plain(error)
        message = MESSAGES.get(error.code, http_error_line(error))
        return render_template("admin/error.html", code=error.code, message=message), error.code

    app.register_error_handler(HTTPException, page)
