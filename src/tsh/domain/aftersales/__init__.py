"""After-sales: technicians, service requests and jobs, spare parts, warranties, returns and refunds."""
