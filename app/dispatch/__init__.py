"""转办 down the hierarchy with an instruction (交办意见), and 退回 back up with a reason."""
