"""Keeps tokens out of the development server's access log (they travel in iframe URLs)."""

import logging
import re

_TOKEN_IN_URL = re.compile(r"(jwt=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Replace the value of every ``jwt=`` query parameter with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "jwt=" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1[redacted]", message), None
        return True
