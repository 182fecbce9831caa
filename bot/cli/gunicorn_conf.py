"""gunicorn's settings shared by `legalbot serve` and the Docker image
(`gunicorn -c python:bot.cli.gunicorn_conf …`).

The access log names the path without its query string: /wechat's query holds the
resident's OpenID and a signature that WeChat's servers made (valid for five minutes,
and the same request posted again would be taken for a retry). The referrer is left
out too, as it may carry a console page's query.
"""

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
