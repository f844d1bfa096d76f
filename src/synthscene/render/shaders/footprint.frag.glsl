// synthscene's footprint mask (render/footprint_mask.py): depth only (colour writes are off).
#version 330 core
void main() {
}
