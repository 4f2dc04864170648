"""Cold chain: temperature profiles per product, the excursion rules, readings storage, excursions and holds.

``profiles`` says which rules apply to a product; ``engine`` applies them to a series of readings (pure, no
database); ``readings`` stores series; ``excursions`` turns findings into excursion records that hold goods.
docs/cold-chain.md explains the choices.
"""
