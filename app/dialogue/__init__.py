"""The anonymous dialogue on the receipt (追问) and 回访 ratings of replies."""
