"""What runs on the hub in a resident's home, and the wire contract it speaks."""
