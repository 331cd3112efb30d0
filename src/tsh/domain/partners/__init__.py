"""Partner salesmen's self-service (the Partner app): profile, tier catalogue, orders for their
network customers, commissions, payouts, network and performance. It sits at the top of the
domain: it orders through sales, prices through the wholesale catalogue and reads the partner
records of customers, none of which may know about it."""
