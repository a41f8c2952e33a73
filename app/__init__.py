"""Yijian (意见箱): feedback collection with an anonymous mailbox."""
