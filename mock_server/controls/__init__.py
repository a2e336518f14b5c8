"""controls"""
