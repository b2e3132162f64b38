"""Resource request tickets (开通 / 变更 / 释放)."""
