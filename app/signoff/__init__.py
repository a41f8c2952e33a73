"""Reply sign-off (答复需审核) and reply templates (常用答复)."""
