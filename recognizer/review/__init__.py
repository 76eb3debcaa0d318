"""Reviewing stored predictions: the doubt-ordered queue, its scoring pass, and the review page's actions."""
