"""The demo SaaS itself: organizations, their members, and the pages they see."""
